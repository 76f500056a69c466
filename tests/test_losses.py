"""losses.py: the masked loss sum and the cross-entropy against TensorFlow's."""

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import losses


def test_masked_loss_ignores_padding():
    logits = tf.random.stateless_normal([2, 3, 5], seed=[1, 2])
    labels = tf.constant([[4, 3, 0], [2, 0, 0]])
    loss_sum, tokens = losses.masked_loss_sum(labels, logits)
    log_probs = tf.nn.log_softmax(logits).numpy()
    expected = -(log_probs[0, 0, 4] + log_probs[0, 1, 3] + log_probs[1, 0, 2])
    assert float(tokens) == 3.0
    assert float(loss_sum) == pytest.approx(expected, rel=1e-5)


def test_sparse_cross_entropy_equals_tensorflows_in_value_and_gradient():
    logits = 8 * tf.random.stateless_normal([3, 4, 50], seed=[3, 4])
    logits = tf.concat([logits, tf.constant([[[1000.0, -1000.0] + [0.0] * 48] * 4])], 0)  # Extremes.
    labels = tf.random.stateless_uniform([4, 4], seed=[5, 6], maxval=50, dtype=tf.int32)
    weights = tf.random.stateless_uniform([4, 4], seed=[7, 8])

    def loss_and_grad(cross_entropy):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            values = cross_entropy(labels, logits)
            loss = tf.reduce_sum(values * weights)
        return values, tape.gradient(loss, logits)

    values, grad = loss_and_grad(losses.sparse_cross_entropy)
    expected_values, expected_grad = loss_and_grad(tf.nn.sparse_softmax_cross_entropy_with_logits)
    assert values.shape == labels.shape and grad.shape == logits.shape
    np.testing.assert_allclose(values, expected_values, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grad, expected_grad, atol=1e-7)
