"""Beam search (and greedy search, its beam-size-1 case) as pure TensorFlow.

`beam_search` works on any `step_fn(ids, states) -> (log_probs, states)`, so
single models and ensembles decode the same way. It is one explicit
`tf.while_loop` with shapes fixed across iterations: it runs unchanged inside
an exported SavedModel (no autograph, no Python in the loop).

Finished hypotheses stay in the beam and are only extended by padding at no
cost, so the `beam_size` best finished hypotheses are exact once every beam has
ended: a live hypothesis can only lose log-probability.
"""

import tensorflow as tf

from tf_seq2seq import vocab

NEG_INF = -1e9


def beam_search(step_fn, initial_states, beam_size, max_length):
    """Finds the highest-scoring target sequences.

    Args:
        step_fn: function `(ids, states) -> (log_probs, states)` with ids int32
            [N], log_probs float32 [N, V], and states a list of tensors [N, ...].
        initial_states: list of float32 tensors [batch, ...], the decoder's
            initial states.
        beam_size: int32 scalar >= 1; 1 is greedy search.
        max_length: int32 scalar, the most tokens generated (`<eos>` included).

    Returns:
        `(ids, scores)`: ids int32 [batch, beam_size, max_length], each
        hypothesis ending with `<eos>` then `vocab.PAD_ID` padding (or cut at
        `max_length`); scores float32 [batch, beam_size], summed log-probs,
        best first.
    """
    batch = tf.shape(initial_states[0])[0]
    states = [tf.repeat(s, beam_size, axis=0) for s in initial_states]
    ids = tf.fill([batch * beam_size], vocab.BOS_ID)
    # Only the first beam is live at the start, so the first step does not
    # pick the same token beam_size times.
    first_beam = tf.one_hot(0, beam_size, on_value=0.0, off_value=NEG_INF)
    scores = tf.tile(first_beam[tf.newaxis, :], [batch, 1])
    finished = tf.zeros([batch, beam_size], tf.bool)
    sequences = tf.zeros([batch, beam_size, max_length], tf.int32)

    def live(t, ids, states, scores, finished, sequences):
        return (t < max_length) & tf.logical_not(tf.reduce_all(finished | (scores <= NEG_INF)))

    def step(t, ids, states, scores, finished, sequences):
        log_probs, states = step_fn(ids, states)
        vocab_size = tf.shape(log_probs)[1]
        log_probs = tf.reshape(log_probs, [batch, beam_size, vocab_size])
        log_probs = _allowed_continuations(log_probs, finished)
        total = tf.reshape(scores[:, :, tf.newaxis] + log_probs, [batch, -1])
        scores, flat_choice = tf.math.top_k(total, k=beam_size)
        parent = flat_choice // vocab_size
        token = flat_choice % vocab_size
        sequences = tf.gather(sequences, parent, batch_dims=1)
        sequences = tf.where(
            tf.range(max_length) == t, token[:, :, tf.newaxis], sequences
        )
        finished = tf.gather(finished, parent, batch_dims=1) | (token == vocab.EOS_ID)
        rows = tf.reshape(parent + beam_size * tf.range(batch)[:, tf.newaxis], [-1])
        states = [tf.gather(s, rows) for s in states]
        return t + 1, tf.reshape(token, [-1]), states, scores, finished, sequences

    _, _, _, scores, _, sequences = tf.while_loop(
        live, step, [tf.constant(0), ids, states, scores, finished, sequences]
    )
    return sequences, scores


def _allowed_continuations(log_probs, finished):
    """Masks the next-token log-probs of each hypothesis.

    Live hypotheses may not produce padding or `<bos>`; finished ones may only
    produce padding, at no cost.

    Args:
        log_probs: float32 [batch, beam, V].
        finished: bool [batch, beam].

    Returns:
        float32 [batch, beam, V].
    """
    vocab_size = tf.shape(log_probs)[2]
    forbidden = tf.one_hot(vocab.PAD_ID, vocab_size, on_value=True, off_value=False) | tf.one_hot(
        vocab.BOS_ID, vocab_size, on_value=True, off_value=False
    )
    live = tf.where(forbidden, NEG_INF, log_probs)
    padding_only = tf.one_hot(vocab.PAD_ID, vocab_size, on_value=0.0, off_value=NEG_INF)
    return tf.where(finished[:, :, tf.newaxis], padding_only, live)
