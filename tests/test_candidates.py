"""candidates.py: each row's best allowed tokens against `tf.math.top_k` (from logits: test_log_softmax.py)."""

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import candidates, vocab


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
