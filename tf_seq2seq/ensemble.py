"""Ensembles: one beam search over several models, their per-step log-probs averaged (the paper's best result)."""

import tensorflow as tf

from tf_seq2seq import decode_step
from tf_seq2seq import log_softmax
from tf_seq2seq import shortlist as shortlist_lib


def step_fn(members, weights, target_ids=None):
    """A new `decoding.beam_search` step function of one model, or of several averaged.

    Call it once per search, outside the loop: it reads the weights not given.

    Args:
        members: list of `model.Seq2Seq` over the same target vocabulary.
        weights: per member, its `decode_step.DecodeWeights` read earlier (e.g.
            kept as variables by an export), or None to read them now.
        target_ids: int32 [K], sorted target ids the search may produce
            (`shortlist.vocabulary`; the search's token i is `target_ids[i]`),
            or None for the whole vocabulary.

    Returns:
        `step_fn(ids, states, constants=()) -> (scores, states)`
        (`decode_step.step_fn`; `ensemble_step_fn` for several members).
    """
    step_fns = []
    for member, member_weights in zip(members, weights):
        if member_weights:
            member_weights = tf.nest.map_structure(tf.convert_to_tensor, member_weights)
        else:
            member_weights = decode_step.decode_weights(member)
        if target_ids is not None:
            member_weights = shortlist_lib.restrict(member_weights, target_ids)
        step_fns.append(decode_step.step_fn(member, member_weights))
    if len(step_fns) == 1:
        return step_fns[0]
    return ensemble_step_fn(step_fns, [member.num_states for member in members],
                            [member.num_constants for member in members])


def ensemble_step_fn(step_fns, state_counts, constant_counts=None):
    """A `step_fn` averaging the per-step log-probs of several models (an ensemble).

    Args:
        step_fns: the members' `step_fn`s (log-probs or `Logits`), over the
            same target vocabulary; each takes `(ids, states, constants)`.
        state_counts: how many state tensors each member has; the ensemble's
            states are the members' lists concatenated in order.
        constant_counts: how many per-sentence constants each member has
            (default: none), concatenated in the same way.

    Returns:
        `step_fn(ids, states, constants=()) -> (log_probs, states)`: log_probs
        float32 [N, V] is the mean of the members' log-probs.
    """
    constant_counts = constant_counts or [0] * len(step_fns)

    def step_fn(ids, states, constants=()):
        member_log_probs, new_states, start, constant_start = [], [], 0, 0
        for member_step_fn, count, constant_count in zip(step_fns, state_counts, constant_counts):
            member_scores, member_states = member_step_fn(
                ids, states[start : start + count], constants[constant_start : constant_start + constant_count]
            )
            member_log_probs.append(log_softmax.to_log_probs(member_scores))
            new_states += member_states
            start += count
            constant_start += constant_count
        return tf.add_n(member_log_probs) / len(member_log_probs), new_states

    return step_fn
