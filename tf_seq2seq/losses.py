"""The training loss: summed token cross-entropies, and the softmax layer fused with its loss.

`masked_loss_sum` sums the cross-entropy of a batch's non-padding target
tokens (`sparse_cross_entropy`: TensorFlow's math in fewer passes over the
logits). On a CPU, `model.Seq2Seq.loss_sum` runs the softmax layer and the loss
as one (`projected_cross_entropy_sum`), chunk by chunk, so no [tokens,
vocabulary] tensor exists.
"""

import tensorflow as tf

from tf_seq2seq import log_softmax
from tf_seq2seq import vocab


def masked_loss_sum(labels, logits):
    """Summed cross-entropy over non-padding target tokens.

    Args:
        labels: int32 [batch, time], `vocab.PAD_ID` where padded.
        logits: float [batch, time, vocab].

    Returns:
        `(loss_sum, num_tokens)`, float32 scalars.
    """
    mask = tf.cast(labels != vocab.PAD_ID, tf.float32)
    losses = sparse_cross_entropy(labels, tf.cast(logits, tf.float32))
    return tf.reduce_sum(losses * mask), tf.reduce_sum(mask)


@tf.custom_gradient
def sparse_cross_entropy(labels, logits):
    """`tf.nn.sparse_softmax_cross_entropy_with_logits` in fewer passes over the logits.

    The same math (`softmax_cross_entropy`), gradient `(softmax -
    one_hot(label)) * upstream`. TensorFlow's fused kernel takes ~6x a
    softmax's CPU time on [1000, 10000] logits.

    Args:
        labels: int32 [...], ids in [0, V).
        logits: float32 [..., V].

    Returns:
        float32 [...], the cross-entropy of each position.
    """
    vocab_size = tf.shape(logits)[-1]
    flat_labels = tf.reshape(labels, [-1])
    losses, probs = softmax_cross_entropy(flat_labels, tf.reshape(logits, [-1, vocab_size]))

    def grad(upstream):
        flat_grad = _minus_one_hot(probs * tf.reshape(upstream, [-1, 1]), flat_labels, tf.reshape(upstream, [-1]))
        return None, tf.reshape(flat_grad, tf.shape(logits))

    return tf.reshape(losses, tf.shape(labels)), grad


# Rows per chunk of `projected_cross_entropy_sum`: its [C, V] float32 tensors are
# 10 MB each for V = 10000. Chosen by measurement (the layer's forward and
# backward alone, N = 3200, units 256, V = 10000, one core): CPU time flat within
# the noise (5%) for C = 128..1024, peak RSS growing above 256 (float32 673, 685,
# 714, 797 MB for C = 128, 256, 512, 1024).
SOFTMAX_CHUNK_ROWS = 256
# `model.Seq2Seq.loss_sum` feeds the softmax layer a multiple of this many rows.
ROW_MULTIPLE = 32


def token_rows(labels):
    """The rows of the non-padding labels, padded to a multiple of `ROW_MULTIPLE` with row 0 at weight 0.

    The softmax layer's GEMMs then see few distinct shapes (oneDNN builds a
    kernel for each new shape, which costs time and memory).

    Args:
        labels: int32 [N], `vocab.PAD_ID` where padded.

    Returns:
        `(rows, weights)`: int64 [M] row indices, float32 [M] 1 or 0.
    """
    tokens = tf.where(labels != vocab.PAD_ID)[:, 0]
    extra = -tf.size(tokens) % ROW_MULTIPLE
    return (tf.concat([tokens, tf.zeros([extra], tf.int64)], 0),
            tf.concat([tf.ones_like(tokens, tf.float32), tf.zeros([extra])], 0))


def projected_cross_entropy_sum(inputs, kernel, bias, labels, weights, chunk_rows):
    """The weighted sum of the softmax layer's cross-entropies, the layer and the loss in one.

    `sum_n weights[n] * cross_entropy(labels[n], inputs[n] @ kernel + bias)`,
    computed `chunk_rows` rows at a time together with its gradients, so no
    [N, V] tensor ever exists: the forward pass holds one chunk's [chunk_rows,
    V] logits, softmax and logits gradient at a time and accumulates the
    kernel and bias gradients in float32; the backward pass only scales the
    gradients by the scalar upstream gradient. The GEMMs run in the inputs'
    dtype (the policy's compute dtype), the softmax, loss and sums in float32.

    Args:
        inputs: float [N, units], the compute dtype.
        kernel: float32 [units, V] (cast to the inputs' dtype for the GEMMs).
        bias: float32 [V] (likewise).
        labels: int32 [N], ids in [0, V).
        weights: float32 [N], each row's weight.
        chunk_rows: rows per chunk (N need not be a multiple).

    Returns:
        float32 scalar, the weighted loss sum.
    """

    @tf.custom_gradient
    def loss_sum(inputs, kernel, bias):
        loss, d_inputs, d_kernel, d_bias = _chunked_loss_and_gradients(
            inputs, tf.cast(kernel, inputs.dtype), tf.cast(bias, inputs.dtype), labels, weights, chunk_rows
        )

        def grad(upstream):
            return tf.cast(tf.cast(d_inputs, tf.float32) * upstream, inputs.dtype), d_kernel * upstream, d_bias * upstream

        return loss, grad

    return loss_sum(inputs, kernel, bias)


def _chunked_loss_and_gradients(inputs, kernel, bias, labels, weights, chunk_rows):
    """`_chunk_loss_and_gradients` over the rows `chunk_rows` at a time, one chunk after another.

    Returns:
        `(loss, d_inputs, d_kernel, d_bias)`: float32 [], [N, units] in the
        inputs' dtype, float32 [units, V] and float32 [V].
    """
    num_chunks = (tf.shape(inputs)[0] + chunk_rows - 1) // chunk_rows

    def chunk(i):
        rows = slice(i * chunk_rows, (i + 1) * chunk_rows)
        return _chunk_loss_and_gradients(inputs[rows], kernel, bias, labels[rows], weights[rows])

    def body(i, loss, d_inputs, d_kernel, d_bias):
        part = chunk(i)
        return i + 1, loss + part[0], d_inputs.write(i, part[1]), d_kernel + part[2], d_bias + part[3]

    # The first chunk (empty for N = 0) starts the sums: no zero [units, V] accumulator to add to.
    loss, first_d_inputs, d_kernel, d_bias = chunk(0)
    d_inputs = tf.TensorArray(inputs.dtype, tf.maximum(num_chunks, 1), infer_shape=False,
                              element_shape=[None, inputs.shape[1]]).write(0, first_d_inputs)
    # One chunk at a time: overlapping iterations would hold several chunks' [chunk_rows, V] tensors.
    _, loss, d_inputs, d_kernel, d_bias = tf.while_loop(
        lambda i, *_: i < num_chunks, body, (1, loss, d_inputs, d_kernel, d_bias), parallel_iterations=1
    )
    return loss, d_inputs.concat(), d_kernel, d_bias


def _chunk_loss_and_gradients(inputs, kernel, bias, labels, weights):
    """One chunk's weighted loss sum and its gradients.

    Args:
        inputs: float [C, units]; kernel [units, V] and bias [V] in its dtype.
        labels: int32 [C].
        weights: float32 [C].

    Returns:
        `(loss, d_inputs, d_kernel, d_bias)`: float32 [], [C, units] in the
        inputs' dtype, float32 [units, V] and float32 [V].
    """
    logits = tf.nn.bias_add(tf.matmul(inputs, kernel), bias)
    losses, probs = softmax_cross_entropy(labels, tf.cast(logits, tf.float32))
    # d loss / d logits before the weights: softmax - one_hot(label). The
    # weights scale the [C, units] GEMM operands and results instead. Once the
    # losses have read the softmax, the scatter is its last reader and writes in
    # place rather than into a copy of it.
    with tf.control_dependencies([losses]):
        d_logits = _minus_one_hot(probs, labels, tf.ones_like(weights))
    d_logits_low = tf.cast(d_logits, inputs.dtype)  # The GEMMs' operand.
    row_weights = weights[:, tf.newaxis]
    d_inputs = tf.cast(tf.cast(tf.matmul(d_logits_low, kernel, transpose_b=True), tf.float32) * row_weights,
                       inputs.dtype)
    d_kernel = tf.matmul(tf.cast(tf.cast(inputs, tf.float32) * row_weights, inputs.dtype), d_logits_low,
                         transpose_a=True)
    d_bias = tf.matmul(weights[tf.newaxis], d_logits)[0]
    return tf.reduce_sum(losses * weights), d_inputs, tf.cast(d_kernel, tf.float32), d_bias


def softmax_cross_entropy(labels, logits):
    """The cross-entropy of each row, and the softmax, from one softmax pass (`log_softmax.log_sum_exp`).

    Args:
        labels: int32 [N], ids in [0, V).
        logits: float32 [N, V].

    Returns:
        `(losses, probs)`: float32 [N] and [N, V].
    """
    probs = tf.nn.softmax(logits)
    return log_softmax.log_sum_exp(logits, probs)[:, 0] - tf.gather(logits, labels, batch_dims=1), probs


def _minus_one_hot(values, labels, amounts):
    """`values` [N, V] with `amounts` [N] subtracted at (row, labels[row]), touching only those entries."""
    rows = tf.range(tf.shape(labels)[0])
    return tf.tensor_scatter_nd_sub(values, tf.stack([rows, labels], 1), amounts)
