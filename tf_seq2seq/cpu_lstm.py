"""A CPU speed path for Keras LSTM layers: one input GEMM for all timesteps.

Keras' LSTM runs the cuDNN kernel on a GPU; on a CPU it falls back to a
generic loop whose every step multiplies both the input `x_t @ W` and the
state `h_{t-1} @ U`, each a small GEMM, and casts the kernels again under a
mixed-precision policy. `lstm` computes the input half `x @ W + b` of every
timestep as one large GEMM before the recurrence, so each step of the loop
runs only `h_{t-1} @ U` and the gate arithmetic. It reads the layer's own
variables (`cell.kernel`, `cell.recurrent_kernel`, `cell.bias`), so weights
and checkpoints are the layer's, and it computes what the Keras layer computes
for right-padded masks (masked steps keep the previous state).

Tensors are time-major (`[T, B, ...]`) so a stack of layers transposes once.
"""

import tensorflow as tf


def gpu_available():
    """Whether TensorFlow sees a GPU (then Keras' cuDNN LSTM is the fast path)."""
    return bool(tf.config.list_logical_devices("GPU"))


def lstm(cell, inputs, mask, initial_state=None):
    """Runs a Keras `LSTMCell` (tanh / sigmoid, with bias) over a time-major sequence.

    Args:
        cell: the `keras.layers.LSTMCell` of a built `keras.layers.LSTM`.
        inputs: float [T, B, input_dim].
        mask: bool [T, B], True at real tokens (padding on the right).
        initial_state: `[h, c]`, float [B, units] each; zeros if None.

    Returns:
        `(outputs, h, c)`: outputs [T, B, units] (at a masked step, the
        previous output), and the state after each row's last real token,
        [B, units] each; all in the cell's compute dtype.
    """
    dtype = cell.compute_dtype
    kernel, recurrent_kernel, bias = (
        tf.cast(v.value, dtype) for v in (cell.kernel, cell.recurrent_kernel, cell.bias)
    )
    inputs = tf.cast(inputs, dtype)
    time, batch = tf.shape(inputs)[0], tf.shape(inputs)[1]
    # The input half of every step's gates in one GEMM: [T * B, input_dim] x [input_dim, 4 units].
    gates_x = tf.reshape(
        tf.matmul(tf.reshape(inputs, [time * batch, -1]), kernel) + bias, [time, batch, 4 * cell.units]
    )
    if initial_state is None:
        initial_state = [tf.zeros([batch, cell.units], dtype)] * 2
    h, c = (tf.cast(s, dtype) for s in initial_state)
    gates_ta = tf.TensorArray(dtype, size=time).unstack(gates_x)
    mask_ta = tf.TensorArray(tf.bool, size=time).unstack(mask[:, :, tf.newaxis])

    def step(t, h, c, outputs):
        z = gates_ta.read(t) + tf.matmul(h, recurrent_kernel)
        i, f, g, o = tf.split(z, 4, axis=1)
        new_c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        new_h = tf.sigmoid(o) * tf.tanh(new_c)
        keep = mask_ta.read(t)
        h = tf.where(keep, new_h, h)
        c = tf.where(keep, new_c, c)
        return t + 1, h, c, outputs.write(t, h)

    _, h, c, outputs = tf.while_loop(
        lambda t, *_: t < time, step, [tf.constant(0), h, c, tf.TensorArray(dtype, size=time)]
    )
    return outputs.stack(), h, c
