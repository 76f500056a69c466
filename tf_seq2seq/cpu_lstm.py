"""A CPU speed path for Keras LSTM layers: one input GEMM for all timesteps.

Keras' LSTM runs the cuDNN kernel on a GPU; on a CPU it falls back to a
generic loop whose every step multiplies both the input `x_t @ W` and the
state `h_{t-1} @ U`, each a small GEMM, and casts the kernels again under a
mixed-precision policy. `lstm` computes the input half `x @ W + b` of every
timestep as one large GEMM before the recurrence, so each step of the loop
runs only `h_{t-1} @ U` and the gate arithmetic. It reads the layer's own
variables (`cell.kernel`, `cell.recurrent_kernel`, `cell.bias`), so weights
and checkpoints are the layer's, and it computes what the Keras layer computes
for right-padded masks (masked steps keep the previous state). The recurrence
has its own backward pass (`_recurrence`): each backward step runs only
`dz_t @ U^T`, and the recurrent kernel's gradient is one GEMM over all steps.

Tensors are time-major (`[T, B, ...]`) so a stack of layers transposes once.
"""

import tensorflow as tf


def gpu_available():
    """Whether TensorFlow sees a GPU (then Keras' cuDNN LSTM is the fast path)."""
    return bool(tf.config.list_logical_devices("GPU"))


def lstm(cell, inputs, mask, initial_state=None, weights=None):
    """Runs a Keras `LSTMCell` (tanh / sigmoid, with bias) over a time-major sequence.

    Args:
        cell: the `keras.layers.LSTMCell` of a built `keras.layers.LSTM`.
        inputs: float [T, B, input_dim].
        mask: bool [T, B], True at real tokens (padding on the right).
        initial_state: `[h, c]`, float [B, units] each; zeros if None.
        weights: the cell's `(kernel, recurrent_kernel, bias)` already in its
            compute dtype (read once for many calls), or None to read them.

    Returns:
        `(outputs, h, c)`: outputs [T, B, units] (at a masked step, the
        previous output), and the state after each row's last real token,
        [B, units] each; all in the cell's compute dtype.
    """
    dtype = cell.compute_dtype
    kernel, recurrent_kernel, bias = weights or (
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
    return _recurrence(gates_x, mask[:, :, tf.newaxis], h, c, recurrent_kernel)


@tf.custom_gradient
def _recurrence(gates_x, keep, h, c, recurrent_kernel):
    """The LSTM recurrence over precomputed input gates, with a hand-written backward pass.

    The backward loop runs only `dz_t @ U^T` per step; the recurrent kernel's
    gradient, a sum over timesteps, is one GEMM after it
    (`[h_{-1} .. h_{T-2}]^T @ [dz_0 .. dz_{T-1}]`) instead of a small GEMM and
    an accumulation per step.

    Args:
        gates_x: float [T, B, 4 units], `x_t @ W + b` of every step (gates i, f, g, o).
        keep: bool [T, B, 1], True at real tokens; elsewhere the state is kept.
        h: float [B, units], the initial output.
        c: float [B, units], the initial cell state.
        recurrent_kernel: float [units, 4 units], U.

    Returns:
        `(outputs, h, c)`: float [T, B, units] (h after each step), and the final h, c [B, units].
    """
    time = tf.shape(gates_x)[0]
    dtype = gates_x.dtype

    def step(t, h, c, hidden, activations, cells):
        z = gates_x[t] + tf.matmul(h, recurrent_kernel)
        i, f, g, o = tf.split(z, 4, axis=1)
        i, f, g, o = tf.sigmoid(i), tf.sigmoid(f), tf.tanh(g), tf.sigmoid(o)
        new_c = f * c + i * g
        new_h = o * tf.tanh(new_c)
        h = tf.where(keep[t], new_h, h)
        c = tf.where(keep[t], new_c, c)
        return (t + 1, h, c, hidden.write(t + 1, h), activations.write(t, tf.concat([i, f, g, o], 1)),
                cells.write(t + 1, c))

    # hidden and cells: the initial state, then the one after each step (at a
    # masked step the kept one: the backward pass multiplies its terms by zero there).
    arrays = [tf.TensorArray(dtype, size=time + 1).write(0, h), tf.TensorArray(dtype, size=time),
              tf.TensorArray(dtype, size=time + 1).write(0, c)]
    _, h_last, c_last, hidden, activations, cells = tf.while_loop(
        lambda t, *_: t < time, step, [tf.constant(0), h, c, *arrays]
    )
    hidden, activations, cells = hidden.stack(), activations.stack(), cells.stack()
    outputs = hidden[1:]  # A view: slices along the first axis share the buffer.

    def grad(d_outputs, d_h, d_c):
        def back_step(t, d_h, d_c, d_z):
            t = t - 1
            i, f, g, o = tf.split(activations[t], 4, axis=1)
            c_prev, new_c = cells[t], cells[t + 1]
            d_h = d_h + d_outputs[t]
            zero = tf.zeros_like(d_h)
            d_new_h, d_h_kept = tf.where(keep[t], d_h, zero), tf.where(keep[t], zero, d_h)
            d_new_c, d_c_kept = tf.where(keep[t], d_c, zero), tf.where(keep[t], zero, d_c)
            tanh_c = tf.tanh(new_c)
            d_new_c = d_new_c + d_new_h * o * (1 - tanh_c * tanh_c)
            dz = tf.concat([d_new_c * g * i * (1 - i), d_new_c * c_prev * f * (1 - f),
                            d_new_c * i * (1 - g * g), d_new_h * tanh_c * o * (1 - o)], 1)
            d_h = tf.matmul(dz, recurrent_kernel, transpose_b=True) + d_h_kept
            d_c = d_new_c * f + d_c_kept
            return t, d_h, d_c, d_z.write(t, dz)

        _, d_h0, d_c0, d_z = tf.while_loop(
            lambda t, *_: t > 0, back_step, [time, d_h, d_c, tf.TensorArray(dtype, size=time)]
        )
        d_z = d_z.stack()
        units = tf.shape(h)[1]
        d_recurrent = tf.matmul(tf.reshape(hidden[:-1], [-1, units]), tf.reshape(d_z, [-1, 4 * units]),
                                transpose_a=True)
        return d_z, None, d_h0, d_c0, d_recurrent

    return (outputs, h_last, c_last), grad
