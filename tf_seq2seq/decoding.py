"""Beam search (and greedy search, its beam-size-1 case) as pure TensorFlow.

`beam_search` works on any `step_fn(ids, states) -> (log_probs, states)`
(with per-sentence `constants`, `step_fn(ids, states, constants)`), so
single models and ensembles decode the same way; a step may return
`log_softmax.Logits` instead of log-probs, and the search normalises only the
candidates it keeps.
It is one explicit `tf.while_loop` with shapes fixed across iterations: it
runs unchanged inside an exported SavedModel (no autograph, no Python in the
loop) and compiles with XLA when the batch and `padded_length` are static.

Each step extends the `beam_size` live hypotheses of every sentence by every
token and keeps the best `2 x beam_size` candidates. Candidates ending in
`<eos>` among the best `beam_size` move to a separate set of finished
hypotheses (never extended again); the best `beam_size` others stay live.
Finished hypotheses are ranked by the GNMT length-normalised score
`log_prob / ((5 + length) / 6) ** length_penalty` (Wu et al., 2016; 0 = the
paper's plain sum of log-probs). A sentence is done when its best
`num_hypotheses` finished hypotheses are final: no live one can still beat
the worst of them. Done sentences leave the batch, so later steps run the
model on the sentences still searching only; the loop stops when none is left
or at `max_length` tokens, where the live hypotheses are finished as they
are. Steps record only each live hypothesis's last token and parent (work
per step: searching sentences x beam x vocabulary, whatever the length); the
finished sequences are read back once at the end. What every hypothesis of a
sentence shares (an attention memory) is held once per sentence, never tiled
by the beam, and only gathered on the steps where sentences leave the batch.
"""

import collections

import tensorflow as tf

from tf_seq2seq import candidates
from tf_seq2seq import vocab
from tf_seq2seq.candidates import NEG_INF

# Scores at or below this mark empty (dead) beam slots.
DEAD = NEG_INF / 2

Hypotheses = collections.namedtuple("Hypotheses", ["ids", "log_probs", "scores"])
Hypotheses.__doc__ = """An n-best list per sentence, best first.

Attributes:
    ids: int32 [batch, beam, T], each hypothesis ending with `<eos>` then
        `vocab.PAD_ID` padding (or cut at `max_length`).
    log_probs: float32 [batch, beam], summed token log-probs.
    scores: float32 [batch, beam], length-normalised log-probs (the ranking;
        equal to `log_probs` for length penalty 0); `NEG_INF` for empty slots.
"""

# Finished hypotheses, [batch, beam] each: scores, and where the hypothesis
# ends (`end` step, its last `token`, and the live hypothesis it extends).
_Finished = collections.namedtuple("_Finished", ["log_probs", "scores", "end", "parent", "token"])
# Per step (TensorArrays of int32 [batch, beam]): each live hypothesis's last
# token and the index of the live hypothesis of the step before it extends.
_History = collections.namedtuple("_History", ["tokens", "parents"])
# The search's state: the step `t`, the sentences still searching (`active`,
# int32 [A], their indices in the batch) and, for those only, each live
# hypothesis's last token (int32 [A x beam]), the decoder states ([A x beam,
# ...]), log-probs (float32 [A, beam]) and the per-sentence constants ([A,
# ...]); the finished hypotheses and the history of the whole batch; and
# whether to go on (bool scalar).
_Loop = collections.namedtuple(
    "_Loop", ["t", "active", "tokens", "states", "alive_log_probs", "constants", "finished", "history",
              "searching"]
)
# Loop invariants, computed once before the loop so each step runs fewer ops:
# beam size, candidates per step (2 x beam), whether each candidate is within
# the beam (bool [candidates]), the rank of the n-th best finished hypothesis
# (whose score decides when a sentence is done), the rows of sentences not
# searching: no endings (`_Finished` [batch, candidates]) and no history
# (int32 zeros [batch, beam]), and whether done sentences leave the batch.
_Invariants = collections.namedtuple(
    "_Invariants",
    ["beam_size", "candidates", "within_beam", "last_kept", "no_endings", "no_history", "compact"],
)


def length_normalizer(length, length_penalty):
    """GNMT's length penalty `((5 + length) / 6) ** length_penalty`, float32."""
    return ((5.0 + tf.cast(length, tf.float32)) / 6.0) ** length_penalty


def _normalize(log_probs, length, length_penalty):
    """`log_probs / length_normalizer(length, length_penalty)`, without ops for a Python 0 penalty."""
    if isinstance(length_penalty, (int, float)) and length_penalty == 0:
        return log_probs
    return log_probs / length_normalizer(length, length_penalty)


def beam_search(step_fn, initial_states, beam_size, max_length, length_penalty=0.0,
                padded_length=None, num_hypotheses=None, constants=()):
    """Finds the highest-scoring target sequences.

    Each step only keeps, per hypothesis, its last token and a pointer to the
    hypothesis it extends, so its work is bounded by batch x beam x vocabulary,
    not by the length; the sequences are read back once at the end. A sentence
    stops being searched (and leaves the batch the model runs on) as soon as
    its best `num_hypotheses` hypotheses are final.

    Args:
        step_fn: function `(ids, states) -> (log_probs, states)` with ids int32
            [N], log_probs float32 [N, V], and states a list of tensors [N, ...];
            with `constants`, `(ids, states, constants)`, the constants [N / beam,
            ...] of the sentences whose hypotheses the N rows are (each
            sentence's `beam_size` rows adjacent).
        initial_states: list of float32 tensors [batch, ...], the decoder's
            initial states.
        beam_size: int32 scalar >= 1; 1 is greedy search.
        max_length: int32 scalar, the most tokens generated (`<eos>` included).
        length_penalty: float, GNMT's alpha; 0 ranks by summed log-prob.
        padded_length: optional int, the static width T of the returned ids
            (>= max_length), so that shapes are fixed for XLA (done sentences
            then stay in the batch). Defaults to `max_length`.
        num_hypotheses: int32 scalar in [1, beam_size], how many of the best
            hypotheses must be exact (default: all `beam_size`). Ranks beyond
            it hold the best hypotheses found before the search stopped.
        constants: list of tensors [batch, ...] that all hypotheses of a
            sentence share (e.g. `model.Seq2Seq.initial_states`' attention
            memory): held once per sentence, never tiled by the beam.

    Returns:
        `Hypotheses` with `beam_size` hypotheses per sentence, sorted by score.

    Examples:

    A step function that always prefers token 5, then `<eos>`:

    ```python
    def step_fn(ids, states):
        best = tf.where(ids == vocab.BOS_ID, 5, vocab.EOS_ID)
        log_probs = tf.math.log(tf.one_hot(best, 8, on_value=0.9, off_value=0.1 / 7))
        return log_probs, states

    found = beam_search(step_fn, [tf.zeros([1, 4])], beam_size=2, max_length=5)
    found.ids[0, 0]  # [5, EOS_ID, PAD_ID, PAD_ID, PAD_ID]
    found.log_probs[0, 0]  # 2 * log(0.9)
    ```

    A trained model's `decode_step.step_fn(seq2seq)` and encoder states
    (`translator.Translator.encode`) decode the same way.
    """
    width = max_length if padded_length is None else padded_length
    batch = tf.shape(initial_states[0])[0]
    states = [tf.repeat(s, beam_size, axis=0) for s in initial_states]
    # Only the first beam is live at the start, so the first step does not
    # pick the same token beam_size times.
    first_beam = tf.one_hot(0, beam_size, on_value=0.0, off_value=NEG_INF)
    empty = tf.fill([batch, beam_size], NEG_INF)
    nowhere = tf.zeros([batch, beam_size], tf.int32)
    initial = _Loop(
        t=tf.constant(0),
        active=tf.range(batch),
        tokens=tf.fill([batch * beam_size], vocab.BOS_ID),
        states=states,
        alive_log_probs=tf.tile(first_beam[tf.newaxis, :], [batch, 1]),
        constants=list(constants),
        finished=_Finished(empty, empty, nowhere, nowhere, nowhere),
        history=_History(
            tokens=tf.TensorArray(tf.int32, size=width, clear_after_read=False),
            parents=tf.TensorArray(tf.int32, size=width, clear_after_read=False),
        ),
        searching=tf.constant(True),
    )
    candidates = 2 * beam_size  # At most beam x vocabulary: every vocabulary has >= 2 tokens.
    no_endings = tf.fill([batch, candidates], NEG_INF)
    no_ending_steps = tf.zeros([batch, candidates], tf.int32)
    invariants = _Invariants(
        beam_size, candidates, tf.range(candidates) < beam_size,
        (beam_size if num_hypotheses is None else num_hypotheses) - 1,
        _Finished(no_endings, no_endings, no_ending_steps, no_ending_steps, no_ending_steps),
        no_history=nowhere, compact=padded_length is None,
    )

    def step(*loop):
        return _step(_Loop(*loop), step_fn, invariants, max_length, length_penalty)

    # At least one step, so that the history is never empty (even for no sentences).
    final = _Loop(*tf.while_loop(
        lambda t, *loop: (t < max_length) & _Loop(t, *loop).searching, step, initial,
        shape_invariants=_shape_invariants(initial, invariants.compact),
    ))
    if padded_length is None:  # Reads back only the steps run, then pads.
        ids = _backtrack(final.finished, final.history, final.t, final.t)
        ids = tf.pad(ids, [[0, 0], [0, 0], [0, width - final.t]], constant_values=vocab.PAD_ID)
    else:  # Static shapes for XLA.
        ids = _backtrack(final.finished, final.history, final.t, width)
    return Hypotheses(ids, final.finished.log_probs, final.finished.scores)


def _shape_invariants(loop, compact):
    """The loop's shape invariants: with `compact`, the searching sentences' rows may shrink."""
    invariants = tf.nest.map_structure(lambda value: value.shape if tf.is_tensor(value) else None, loop)
    if not compact:
        return invariants

    def rows_may_shrink(shape):
        return tf.TensorShape([None]).concatenate(shape[1:])

    return invariants._replace(
        active=rows_may_shrink(invariants.active), tokens=rows_may_shrink(invariants.tokens),
        states=[rows_may_shrink(s) for s in invariants.states],
        alive_log_probs=rows_may_shrink(invariants.alive_log_probs),
        constants=[rows_may_shrink(c) for c in invariants.constants],
    )


def _step(loop, step_fn, invariants, max_length, length_penalty):
    """One decoding step: extends the live beam, moves endings to the finished set.

    Written for few ops per step: a batch-1 search spends more time per op
    than in the arithmetic. Runs the model on the searching sentences only
    (`loop.active`, A of them); the finished set and the history cover the
    whole batch.
    """
    scores, states = (step_fn(loop.tokens, loop.states, loop.constants) if loop.constants
                      else step_fn(loop.tokens, loop.states))
    # The best candidates of a sentence are among the best `candidates` tokens
    # of each of its live hypotheses: rank those, not beam x vocabulary.
    row_log_probs, row_tokens = candidates.top_tokens(scores, invariants.candidates)
    per_row = row_log_probs.shape[1] or tf.shape(row_log_probs)[1]
    total = tf.reshape(row_log_probs + tf.reshape(loop.alive_log_probs, [-1, 1]),
                       [-1, invariants.beam_size * per_row])
    top_log_probs, flat_choice = tf.math.top_k(total, k=invariants.candidates)
    parent = flat_choice // per_row
    token = tf.gather(tf.reshape(row_tokens, [-1, invariants.beam_size * per_row]), flat_choice,
                      batch_dims=1)

    is_eos = token == vocab.EOS_ID
    ending = invariants.within_beam & (is_eos | (loop.t + 1 >= max_length)) & (top_log_probs > DEAD)
    normalized = _normalize(top_log_probs, loop.t + 1, length_penalty)
    endings = _Finished(
        top_log_probs, tf.where(ending, normalized, NEG_INF),
        tf.fill(tf.shape(token), loop.t), parent, token,
    )
    finished = _merge_finished(loop.finished, _to_batch(endings, invariants.no_endings, loop, invariants),
                               invariants.beam_size)

    alive_log_probs, keep = tf.math.top_k(tf.where(is_eos, NEG_INF, top_log_probs), k=invariants.beam_size)
    parent = tf.gather(parent, keep, batch_dims=1)
    token = tf.gather(token, keep, batch_dims=1)
    history = _History(
        loop.history.tokens.write(loop.t, _to_batch(token, invariants.no_history, loop, invariants)),
        loop.history.parents.write(loop.t, _to_batch(parent, invariants.no_history, loop, invariants)),
    )
    worst_kept = tf.gather(finished.scores[:, invariants.last_kept], loop.active)
    done = _sentences_done(alive_log_probs, worst_kept, max_length, length_penalty)
    constants = loop.constants
    if invariants.compact:  # Done sentences leave the batch.
        searching = tf.cast(tf.where(tf.logical_not(done))[:, 0], tf.int32)
        active, alive_log_probs, parent, token = (
            tf.gather(value, searching) for value in (loop.active, alive_log_probs, parent, token)
        )
        go_on = tf.size(searching) > 0
        if constants:  # Gathered only on the steps where a sentence leaves.
            constants = tf.cond(tf.size(searching) < tf.size(loop.active),
                                lambda: [tf.gather(c, searching) for c in loop.constants],
                                lambda: list(loop.constants))
    else:  # `active` stays the whole batch, in order.
        searching = active = loop.active
        go_on = tf.logical_not(tf.reduce_all(done))
    rows = tf.reshape(parent + invariants.beam_size * searching[:, tf.newaxis], [-1])
    states = [tf.gather(s, rows) for s in states]
    return _Loop(loop.t + 1, active, tf.reshape(token, [-1]), states, alive_log_probs, constants, finished,
                 history, go_on)


def _to_batch(values, bases, loop, invariants):
    """Rows of the searching sentences ([A, k]) placed in the whole batch ([batch, k]).

    Args:
        values: a tensor [A, k] or a `_Finished` of them.
        bases: the same structure of [batch, k] tensors, the other rows' values
            (`invariants.no_endings` or `invariants.no_history`).
        loop: the `_Loop`, whose `active` says which rows of the batch.
        invariants: the `_Invariants`.
    """
    if not invariants.compact:  # Every sentence is in the batch, in order.
        return values
    rows = loop.active[:, tf.newaxis]
    return tf.nest.map_structure(lambda base, value: tf.tensor_scatter_nd_update(base, rows, value),
                                 bases, values)


def _merge_finished(finished, new, beam_size):
    """The best `beam_size` of two sets of finished hypotheses, by score."""
    merged = _Finished(*(tf.concat([old, more], axis=1) for old, more in zip(finished, new)))
    _, keep = tf.math.top_k(merged.scores, k=beam_size)
    return _Finished(*(tf.gather(field, keep, batch_dims=1) for field in merged))


def _backtrack(finished, history, steps, width):
    """The token ids of the finished hypotheses, read back through the history.

    Args:
        finished: `_Finished` [batch, beam].
        history: `_History` of the `steps` steps run.
        steps: int32 scalar >= 1.
        width: the ids' length T (>= steps).

    Returns:
        int32 [batch, beam, T]: each hypothesis's tokens, then padding.
    """

    def read_column(position, pointer, columns):
        step = tf.minimum(position, steps - 1)
        token = tf.gather(history.tokens.read(step), pointer, batch_dims=1)
        parent = tf.gather(history.parents.read(step), pointer, batch_dims=1)
        inside = position < finished.end
        column = tf.where(position == finished.end, finished.token,
                          tf.where(inside, token, vocab.PAD_ID))
        return position - 1, tf.where(inside, parent, pointer), columns.write(position, column)

    _, _, columns = tf.while_loop(
        lambda position, *_: position >= 0, read_column,
        [width - 1, finished.parent, tf.TensorArray(tf.int32, size=width)],
    )
    return tf.transpose(columns.stack(), [1, 2, 0])


def _sentences_done(alive_log_probs, worst_kept, max_length, length_penalty):
    """Whether no live hypothesis of a sentence can enter its n-best list.

    Log-probs only fall as a hypothesis grows, and for length_penalty >= 0 the
    normaliser grows with length, so a live hypothesis scores at most its
    current log-prob divided by the normaliser at `max_length`.

    Args:
        alive_log_probs: float32 [A, beam], best first.
        worst_kept: float32 [A], the score of each sentence's n-th best
            finished hypothesis (`NEG_INF` while it has fewer than n).

    Returns:
        bool [A].
    """
    alive = alive_log_probs[:, 0]
    best_alive = _normalize(alive, max_length, length_penalty)
    return (alive <= DEAD) | ((worst_kept > DEAD) & (best_alive < worst_kept))
