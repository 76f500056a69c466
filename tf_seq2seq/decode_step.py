"""One decoder step for a search loop, on the trained weights read once as the step uses them.

`decode_weights` reads a `model.Seq2Seq`'s decoder weights (cast to the
compute dtype, each LSTM's two kernels stacked into one GEMM) and
`encode_weights` its encoder's for the CPU path; with `keep` they become
variables, so an export holds them prepared and a request does not cast and
stack them again. `step_fn` runs one step of the decoder on them: the
`step_fn` of `decoding.beam_search`.
"""

import collections

import tensorflow as tf

from tf_seq2seq import attention as attention_lib
from tf_seq2seq import log_softmax

# The decoder's weights as a step uses them (`decode_weights`).
DecodeWeights = collections.namedtuple("DecodeWeights", ["embeddings", "layers", "projection", "attention"])
# The encoder's weights as the CPU path uses them (`encode_weights`).
EncodeWeights = collections.namedtuple("EncodeWeights", ["layers", "attention"])


def decode_weights(seq2seq, keep=False):
    """The decoder's weights as one step uses them, read now.

    Each is cast to the compute dtype, and each LSTM's two kernels are
    stacked into one `[x, h] x [W; U]` GEMM.

    Args:
        seq2seq: a `model.Seq2Seq`.
        keep: return variables instead of values: a weight used as it is
            stored is its own variable; any other (cast or stacked) is a
            new non-trainable variable holding its value as it is now.

    Returns:
        `DecodeWeights` in the compute dtype: embeddings [target_vocab_size,
        embedding_dim], per decoder layer `(kernel [input + units, 4 x
        units], bias [4 x units])`, the projection's `(kernel [units,
        target_vocab_size], bias [target_vocab_size])` and the attention's
        weights (`attention.Attention.read`), or `()` without attention.
    """
    def read(*variables):
        return _prepared(seq2seq, variables, keep)

    return DecodeWeights(
        embeddings=read(seq2seq.target_embedding.embeddings),
        layers=[(read(layer.cell.kernel, layer.cell.recurrent_kernel), read(layer.cell.bias))
                for layer in seq2seq.decoder_layers],
        projection=(read(seq2seq.projection.kernel), read(seq2seq.projection.bias)),
        attention=_attention_weights(seq2seq, keep),
    )


def encode_weights(seq2seq, keep=False, attention=None):
    """The encoder's weights as the CPU path uses them, read now (`decode_weights`' `keep`).

    Args:
        seq2seq: a `model.Seq2Seq`.
        keep: see `decode_weights`.
        attention: the attention's weights if already read (e.g.
            `decode_weights(keep=True).attention`, shared), else read here.

    Returns:
        `EncodeWeights` in the compute dtype: per encoder layer `(kernel
        [input, 4 x units], recurrent_kernel [units, 4 x units], bias [4 x
        units])` (`cpu_lstm.lstm`), and the attention's weights or `()`.
    """
    layers = [tuple(_prepared(seq2seq, [v], keep) for v in (layer.cell.kernel, layer.cell.recurrent_kernel,
                                                         layer.cell.bias))
              for layer in seq2seq.encoder_layers]
    return EncodeWeights(layers, _attention_weights(seq2seq, keep) if attention is None else attention)


def _prepared(seq2seq, variables, keep):
    """The variables' values (concatenated along axis 0) in the compute dtype.

    With `keep`: a variable stored in the compute dtype is returned as its
    own value (no copy); anything cast or concatenated becomes a new
    non-trainable variable holding its value as it is now.
    """
    dtype = seq2seq.projection.compute_dtype
    if keep and len(variables) == 1 and variables[0].dtype == dtype:
        return variables[0].value
    value = tf.cast(tf.concat([tf.convert_to_tensor(v.value) for v in variables], 0), dtype)
    return tf.Variable(value, trainable=False) if keep else value


def _attention_weights(seq2seq, keep):
    """`attention.Attention.read` in the compute dtype (with `keep`, as new variables), or `()`."""
    if seq2seq.attention is None:
        return ()
    weights = seq2seq.attention.read(seq2seq.projection.compute_dtype)
    return tuple(tf.Variable(w, trainable=False) for w in weights) if keep else weights


def step_fn(seq2seq, weights=None):
    """One decoder step (same weights as training), the weights read once, for a search loop.

    Call it outside the loop (e.g. before `decoding.beam_search`): the
    weights are read here (`decode_weights`), so every step runs only the
    arithmetic (fewer ops, which small-batch search pays for per step).

    Args:
        seq2seq: a `model.Seq2Seq`.
        weights: `DecodeWeights` read earlier (e.g. kept in a SavedModel,
            so a request does not cast and stack them again); default:
            read now.

    Returns:
        A function `(ids, states, constants=()) -> (scores, states)`: ids
        int32 [N], the previous target token of each hypothesis; states
        the `num_states` tensors `[h_1, c_1, ...]` [N, units]
        (`model.Seq2Seq.initial_states`); constants the attention memory of the B
        sentences the N hypotheses belong to (`model.Seq2Seq.initial_states`, [B, ...];
        N = B x k, each sentence's k hypotheses adjacent). scores are
        `log_softmax.Logits` of the next token, float32 [N,
        target_vocab_size]; the new states keep the layout.
    """
    embeddings, layers, projection, attention = weights or decode_weights(seq2seq)
    dtype = embeddings.dtype

    def step(ids, states, constants=()):
        x = tf.gather(embeddings, ids)
        new_states = []
        for (kernel, bias), h, c in zip(layers, states[::2], states[1::2]):
            z = tf.nn.bias_add(tf.matmul(tf.concat([x, tf.cast(h, dtype)], 1), kernel), bias)
            i, f, g, o = tf.split(z, 4, axis=1)
            c = tf.sigmoid(f) * tf.cast(c, dtype) + tf.sigmoid(i) * tf.tanh(g)
            x = tf.sigmoid(o) * tf.tanh(c)
            new_states += [x, c]
        if attention:  # Each sentence's hypotheses attend over its memory as one query sequence.
            queries = tf.reshape(x, [tf.shape(constants[0])[0], -1, x.shape[-1]])
            x, _ = attention_lib.attend(seq2seq.attention.kind, attention, queries, constants)
            x = tf.reshape(x, [-1, x.shape[-1]])
        logits = tf.nn.bias_add(tf.matmul(x, projection[0]), projection[1])
        return log_softmax.Logits(tf.cast(logits, tf.float32)), new_states

    return step
