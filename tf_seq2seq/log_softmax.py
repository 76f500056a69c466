"""Log-probabilities from logits, in one softmax pass: what decoding and the loss share.

A `step_fn` of `decoding.beam_search` may return `Logits` instead of
log-probs; `to_log_probs` normalises them, and `log_sum_exp` gives each row's
normaliser from its softmax, which oneDNN computes faster on a CPU than an
exp pass or TensorFlow's LogSoftmax.
"""

import collections

import tensorflow as tf

Logits = collections.namedtuple("Logits", ["values"])
Logits.__doc__ = """A `step_fn`'s next-token scores before the softmax: float32 [N, V] `values`.

The search ranks each row's tokens by them (a row's log-probs are its logits
minus one constant) and normalises only the candidates it keeps: no [N, V]
log-softmax is written at every step.
"""


def to_log_probs(scores):
    """float32 [N, V] log-probs of a `step_fn`'s scores (log-probs already, or `Logits`)."""
    if isinstance(scores, Logits):
        return scores.values - log_sum_exp(scores.values, tf.nn.softmax(scores.values))
    return scores


def log_sum_exp(logits, probs, row_max=None):
    """`log(sum(exp(logits)))` of each row, float32 [N, 1], from its softmax `probs` [N, V].

    One softmax pass (oneDNN's, cheaper on a CPU than an exp pass or
    TensorFlow's LogSoftmax) gives it: the largest probability is
    exp(max - logsumexp) >= 1 / V, which never underflows, so logsumexp =
    max - log(it).

    Args:
        logits: float32 [N, V].
        probs: float32 [N, V], `tf.nn.softmax(logits)`.
        row_max: float32 [N, 1], each row's largest logit if already known.
    """
    if row_max is None:
        row_max = tf.reduce_max(logits, 1, keepdims=True)
    return row_max - tf.math.log(tf.reduce_max(probs, 1, keepdims=True))
