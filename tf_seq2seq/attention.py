"""Optional attention over the encoder outputs (beyond the paper): `--attention`.

The paper's decoder sees the source only through the encoder's final states
(`none`, the default). With `luong` or `bahdanau` the decoder's top LSTM layer
output `h_t` attends over the top encoder layer's outputs `h_s` (the memory),
as in Luong et al. (2015) without input feeding:

    a_t = softmax_s(score(h_t, h_s))          (padding masked out)
    c_t = sum_s a_ts h_s
    h~_t = tanh(W_c [c_t; h_t])               -> dropout -> softmax layer

* `luong`: the "general" score `h_t^T W_a h_s`.
* `bahdanau`: the additive score `v^T tanh(W_q h_t + W_m h_s)` of Bahdanau et
  al. (2015), over the same top-layer outputs (their decoder also feeds the
  context back into the recurrence, which this formulation does not).

Neither feeds `c_t` back into the LSTMs, so the decoder stack runs over the
whole target sequence at once (cuDNN-eligible) and attention is one batched
computation over all timesteps after it. A decoding step runs the same
computation with one timestep.

The memory travels with the decoder's states as rank-3 tensors
`[batch, source_length, ...]` (`memory_states`): the outputs, Bahdanau's keys
`W_m h_s` (computed once per sentence) and the mask of real source positions
(bool `[batch, source_length, 1]`). Beam search tiles and reorders them like
the LSTM states; zero padding along the source axis is masked padding.
"""

import keras
import tensorflow as tf

from tf_seq2seq import vocab

# Score of a masked source position: its softmax weight underflows to exactly 0.
_MASKED = -1e9


class Attention(keras.layers.Layer):
    """Luong ("general") or Bahdanau (additive) attention over the top encoder outputs."""

    def __init__(self, kind, units, initializer, **kwargs):
        """Args:
            kind: `luong` or `bahdanau`.
            units: the LSTMs' units (query, memory and output size).
            initializer: initializer of every weight.
        """
        super().__init__(name="attention", **kwargs)
        self.kind = kind

        def weight(name, shape):
            return self.add_weight(name=name, shape=shape, initializer=initializer)

        # Built here: the weights' shapes depend on `units` only.
        self.query_kernel = weight("query_kernel", (units, units))
        if self.kind == "bahdanau":
            self.memory_kernel = weight("memory_kernel", (units, units))
            self.score_vector = weight("score_vector", (units, 1))
        self.output_kernel = weight("output_kernel", (2 * units, units))
        self.built = True
        # Takes the masked decoder outputs; the loss masks padded targets, so no mask goes on.
        self.supports_masking = True

    def compute_mask(self, *args, **kwargs):
        return None

    def read(self, dtype):
        """The weights' current values in `dtype`, for `attend` (read once per search).

        Returns:
            A tuple of tensors, in the order `attend` takes them.
        """
        names = ("query_kernel", "output_kernel") if self.kind == "luong" else (
            "query_kernel", "memory_kernel", "score_vector", "output_kernel"
        )
        return tuple(tf.cast(tf.convert_to_tensor(getattr(self, n).value), dtype) for n in names)

    def memory_states(self, memory, source_ids, weights=None):
        """The memory tensors that the decoder carries with its states.

        Args:
            memory: float [batch, S, units], the top encoder layer's outputs.
            source_ids: int32 [batch, S], the (reversed) encoder input,
                `vocab.PAD_ID` where padded.
            weights: `read(...)` values, or None to read the variables.

        Returns:
            List of rank-3 tensors: memory [batch, S, units], for Bahdanau the
            keys [batch, S, units], and the mask bool [batch, S, 1].
        """
        weights = self.read(memory.dtype) if weights is None else weights
        mask = (source_ids != vocab.PAD_ID)[:, :, tf.newaxis]
        if self.kind == "luong":
            return [memory, mask]
        return [memory, tf.tensordot(memory, weights[1], 1), mask]

    def call(self, query, memory, source_ids):
        """Attends over all target timesteps at once (training, evaluation).

        Args:
            query: float [batch, T, units], the top decoder layer's outputs.
            memory: float [batch, S, units], the top encoder layer's outputs.
            source_ids: int32 [batch, S], `vocab.PAD_ID` where padded.

        Returns:
            `(outputs, weights)`: the attentional vectors h~ [batch, T, units]
            (compute dtype) and the attention weights float32 [batch, T, S].
        """
        weights = self.read(self.compute_dtype)
        query = tf.cast(query, self.compute_dtype)
        memory = tf.cast(memory, self.compute_dtype)
        return attend(self.kind, weights, query, self.memory_states(memory, source_ids, weights))


def attend(kind, weights, query, memory_states):
    """The attention computation on tensors (`Attention.call` and a decoding step).

    Args:
        kind: `luong` or `bahdanau`.
        weights: `Attention.read` values.
        query: float [N, T, units] (T = 1 for a decoding step).
        memory_states: `Attention.memory_states` of the N sentences.

    Returns:
        `(outputs, attention_weights)`: [N, T, units] in the query's dtype and
        float32 [N, T, S]; weights on masked positions are exactly 0.
    """
    memory, mask = memory_states[0], memory_states[-1]
    if kind == "luong":
        query_kernel, output_kernel = weights
        scores = tf.matmul(tf.tensordot(query, query_kernel, 1), memory, transpose_b=True)
    else:
        query_kernel, _, score_vector, output_kernel = weights
        keys = memory_states[1]
        # [N, T, 1, units] + [N, 1, S, units] -> [N, T, S]
        queries = tf.tensordot(query, query_kernel, 1)
        hidden = tf.tanh(queries[:, :, tf.newaxis, :] + keys[:, tf.newaxis, :, :])
        scores = tf.squeeze(tf.tensordot(hidden, score_vector, 1), -1)
    # The softmax runs in float32 (mixed precision keeps its range); mask [N, 1, S].
    scores = tf.where(tf.linalg.matrix_transpose(mask), tf.cast(scores, tf.float32), _MASKED)
    attention_weights = tf.nn.softmax(scores, axis=-1)
    context = tf.matmul(tf.cast(attention_weights, query.dtype), memory)
    outputs = tf.tanh(tf.tensordot(tf.concat([context, query], -1), output_kernel, 1))
    return outputs, attention_weights
