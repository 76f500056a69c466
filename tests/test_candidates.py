"""candidates.py: each row's best allowed tokens, from log-probs or from logits, against `tf.math.top_k`."""

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import candidates, log_softmax, vocab


def test_logits_give_the_top_tokens_and_log_probs_of_their_log_softmax():
    logits = 8 * tf.random.stateless_normal([6, 1000], seed=[1, 2])
    extremes = tf.constant([[1000.0, -1000.0] + [0.0] * 998, [3.0] * 1000, [-1e4] * 999 + [1e4]])
    logits = tf.concat([logits, extremes], 0)  # Row 6: <pad> wins; row 7: all tied.
    log_probs = tf.nn.log_softmax(logits)
    np.testing.assert_allclose(log_softmax.to_log_probs(log_softmax.Logits(logits)), log_probs, rtol=1e-6, atol=2e-5)
    assert log_softmax.to_log_probs(log_probs) is log_probs
    values, ids = candidates.top_tokens(log_softmax.Logits(logits), 10)
    expected_values, expected_ids = candidates.top_tokens(log_probs, 10)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_allclose(values, expected_values, rtol=1e-6, atol=2e-5)


@pytest.mark.parametrize("vocab_size", [5, 6, 37, 100, 1000])
@pytest.mark.parametrize("k", [1, 4, 10, 24])
def test_top_tokens_equals_top_k_of_the_masked_rows(vocab_size, k):
    rng = np.random.default_rng(vocab_size * 100 + k)
    # Coarse values, so that ties (also across blocks) are common.
    log_probs = rng.integers(-6, 0, size=(7, vocab_size)).astype(np.float32)
    log_probs[0, :] = -1.0  # A row of ties only.
    log_probs[1, [vocab.PAD_ID, vocab.BOS_ID]] = 1.0  # The specials would win.
    masked = log_probs.copy()
    masked[:, [vocab.PAD_ID, vocab.BOS_ID]] = candidates.NEG_INF
    expected = tf.math.top_k(masked, k=min(k, vocab_size))
    for k_value in (k, tf.constant(k)):  # Static, and a tensor as in the exported signatures.
        values, ids = candidates.top_tokens(tf.constant(log_probs), k_value)
        np.testing.assert_array_equal(values, expected.values)
        real = expected.values.numpy() > candidates.NEG_INF / 2  # Past them, any forbidden id is fine.
        assert real.sum() == 7 * min(k, vocab_size - 2)
        np.testing.assert_array_equal(ids.numpy()[real], expected.indices.numpy()[real])
