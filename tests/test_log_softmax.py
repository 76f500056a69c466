"""log_softmax: logits normalised in one softmax pass give tf.nn.log_softmax's log-probs and top tokens."""

import numpy as np
import tensorflow as tf

from tf_seq2seq import candidates, log_softmax


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
