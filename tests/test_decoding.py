"""Beam search against exhaustive enumeration and a plain greedy decoder, on a toy model."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import decoding, log_softmax, vocab

from helpers import ALLOWED, MAX_LENGTH, VOCAB, strip

BATCH = 3


def make_table(seed):
    """Log-probs [batch, step, previous token, next token] of a toy decoder."""
    logits = np.random.default_rng(seed).normal(size=(BATCH, MAX_LENGTH, VOCAB, VOCAB)) * 2
    return logits - np.log(np.exp(logits).sum(-1, keepdims=True))


def toy_step_fn(table, as_logits=False):
    """A `step_fn` whose state is (sentence index, step); log-probs come from `table`.

    With `as_logits` it returns `log_softmax.Logits`: the log-probs shifted by a
    different constant in every row (as logits are), which the search must undo.
    """
    table = tf.constant(table, tf.float32)

    def step_fn(ids, states):
        sentence, step = tf.unstack(tf.cast(states[0], tf.int32), axis=1)
        log_probs = tf.gather_nd(table, tf.stack([sentence, step, ids], axis=1))
        if as_logits:
            shift = 3.0 * tf.cast(sentence, tf.float32) - 2.0 * tf.cast(step + ids, tf.float32)
            log_probs = log_softmax.Logits(log_probs + shift[:, tf.newaxis])
        return log_probs, [states[0] + tf.constant([[0.0, 1.0]])]

    return step_fn


def initial_states():
    return [tf.constant([[b, 0.0] for b in range(BATCH)])]


def enumerate_hypotheses(table, sentence, length_penalty=0.0):
    """Every hypothesis (ends at <eos> or at MAX_LENGTH) as (normalised score, log-prob, tokens), best first."""
    hypotheses = []
    for length in range(1, MAX_LENGTH + 1):
        for tokens in itertools.product(ALLOWED, repeat=length):
            if vocab.EOS_ID in tokens[:-1] or (length < MAX_LENGTH and tokens[-1] != vocab.EOS_ID):
                continue
            previous = (vocab.BOS_ID,) + tokens[:-1]
            score = sum(table[sentence, t, p, n] for t, (p, n) in enumerate(zip(previous, tokens)))
            normalizer = ((5.0 + length) / 6.0) ** length_penalty
            hypotheses.append((score / normalizer, score, list(tokens)))
    return sorted(hypotheses, key=lambda h: -h[0])


@pytest.mark.parametrize("as_logits", [False, True])
@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wide_beam_finds_the_exhaustive_n_best(seed, length_penalty, as_logits):
    table = make_table(seed)
    beam = len(ALLOWED) ** MAX_LENGTH  # Wide enough to keep every prefix.
    found = decoding.beam_search(
        toy_step_fn(table, as_logits), initial_states(), beam, MAX_LENGTH, length_penalty
    )
    for sentence in range(BATCH):
        expected = enumerate_hypotheses(table, sentence, length_penalty)[:5]
        for rank, (score, log_prob, tokens) in enumerate(expected):
            assert strip(found.ids[sentence, rank].numpy()) == tokens
            assert found.log_probs[sentence, rank].numpy() == pytest.approx(log_prob, abs=1e-4)
            assert found.scores[sentence, rank].numpy() == pytest.approx(score, abs=1e-4)


def test_length_penalty_changes_the_ranking_towards_longer_outputs():
    def mean_length(length_penalty):
        found = decoding.beam_search(
            toy_step_fn(make_table(4)), initial_states(), 64, MAX_LENGTH, length_penalty
        )
        return np.mean([len(strip(row)) for row in found.ids[:, 0].numpy()])

    assert mean_length(2.0) > mean_length(0.0)


def test_search_stops_once_no_live_hypothesis_can_win():
    table = make_table(5)
    table[..., vocab.EOS_ID] = 0.0  # <eos> next is certain...
    table[..., vocab.EOS_ID + 1 :] -= 30.0  # ...any word very unlikely.
    calls = tf.Variable(0)
    step_fn = toy_step_fn(table)

    def counting_step_fn(ids, states):
        calls.assign_add(1)
        return step_fn(ids, states)

    found = decoding.beam_search(counting_step_fn, initial_states(), 2, MAX_LENGTH)
    assert [strip(row) for row in found.ids[:, 0].numpy()] == [[vocab.EOS_ID]] * BATCH
    # Step 1 finishes "<eos>", step 2 "word <eos>"; then no live hypothesis can win.
    assert calls.numpy() == 2


@pytest.mark.parametrize("compact", [True, False])
@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_n_best_stop_early_and_equal_the_full_search(seed, length_penalty, compact):
    """With `num_hypotheses=n` the search may stop sooner, and its n best are the full search's."""
    table = make_table(seed)
    step_fn = toy_step_fn(table)
    rows = tf.Variable(0)

    def counting_step_fn(ids, states):
        rows.assign_add(tf.size(ids))
        return step_fn(ids, states)

    # In a graph, as served (the rows of done sentences leave the loop's tensors).
    @tf.function
    def search(num_hypotheses):
        return decoding.beam_search(counting_step_fn, initial_states(), 6, MAX_LENGTH, length_penalty,
                                    padded_length=None if compact else MAX_LENGTH,
                                    num_hypotheses=num_hypotheses)

    full = search(tf.constant(6))
    rows_of = {6: rows.numpy()}
    for n in (1, 3):
        rows.assign(0)
        found = search(tf.constant(n))
        rows_of[n] = rows.numpy()
        np.testing.assert_array_equal(found.ids[:, :n], full.ids[:, :n])
        np.testing.assert_array_equal(found.log_probs[:, :n], full.log_probs[:, :n])
        np.testing.assert_array_equal(found.scores[:, :n], full.scores[:, :n])
    assert rows_of[1] <= rows_of[3] <= rows_of[6]
    exhaustive = [enumerate_hypotheses(table, sentence, length_penalty) for sentence in range(BATCH)]
    assert [strip(row) for row in full.ids[:, 0].numpy()] == [h[0][2] for h in exhaustive]


def test_done_sentences_leave_the_batch():
    """A sentence whose best hypothesis is final stops costing model rows; the others go on alike."""
    table = make_table(6)
    table[0, :, :, vocab.EOS_ID] = 0.0  # Sentence 0: <eos> is certain at once...
    table[0, :, :, vocab.EOS_ID + 1:] = -30.0
    table[1:, :, :, vocab.EOS_ID] = -30.0  # ...the others never end before MAX_LENGTH.
    step_fn = toy_step_fn(table)
    row_counts = []

    def counting_step_fn(ids, states):
        row_counts.append(int(tf.size(ids)))
        return step_fn(ids, states)

    beam = 2
    found = decoding.beam_search(counting_step_fn, initial_states(), beam, MAX_LENGTH, num_hypotheses=1)
    padded = decoding.beam_search(step_fn, initial_states(), beam, MAX_LENGTH, padded_length=MAX_LENGTH,
                                  num_hypotheses=1)
    assert row_counts == [BATCH * beam] + [(BATCH - 1) * beam] * (MAX_LENGTH - 1)
    np.testing.assert_array_equal(found.ids[:, 0], padded.ids[:, 0])
    np.testing.assert_array_equal(found.log_probs[:, 0], padded.log_probs[:, 0])
    assert strip(found.ids[0, 0].numpy()) == [vocab.EOS_ID]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_of_one_is_greedy(seed):
    table = make_table(seed)
    found = decoding.beam_search(toy_step_fn(table), initial_states(), 1, MAX_LENGTH)
    for sentence in range(BATCH):
        previous, tokens, score = vocab.BOS_ID, [], 0.0
        for step in range(MAX_LENGTH):
            row = table[sentence, step, previous]
            token = max(ALLOWED, key=lambda t: row[t])
            tokens.append(token)
            score += row[token]
            previous = token
            if token == vocab.EOS_ID:
                break
        assert strip(found.ids[sentence, 0].numpy()) == tokens
        assert found.log_probs[sentence, 0].numpy() == pytest.approx(score, abs=1e-4)


def test_scores_are_sorted_and_padding_follows_eos():
    table = make_table(3)
    length_penalty = 0.5
    found = decoding.beam_search(toy_step_fn(table), initial_states(), 5, MAX_LENGTH, length_penalty)
    assert np.all(np.diff(found.scores.numpy(), axis=1) <= 0)
    ended_early = 0
    for sentence in range(BATCH):
        for rank, row in enumerate(found.ids[sentence].numpy()):
            tokens = strip(row)
            # Up to <eos> (or the length limit) only words and <eos>; after it only <pad>.
            assert vocab.PAD_ID not in tokens and vocab.BOS_ID not in tokens
            assert tokens[-1] == vocab.EOS_ID or len(tokens) == MAX_LENGTH
            assert list(row[len(tokens):]) == [vocab.PAD_ID] * (MAX_LENGTH - len(tokens))
            ended_early += len(tokens) < MAX_LENGTH
            # The reported log-prob and score are those of exactly these tokens.
            previous = [vocab.BOS_ID] + tokens[:-1]
            log_prob = sum(table[sentence, t, p, n] for t, (p, n) in enumerate(zip(previous, tokens)))
            normalizer = ((5.0 + len(tokens)) / 6.0) ** length_penalty
            assert found.log_probs[sentence, rank].numpy() == pytest.approx(log_prob, abs=1e-4)
            assert found.scores[sentence, rank].numpy() == pytest.approx(log_prob / normalizer, abs=1e-4)
    assert ended_early > 0  # Some rows hold padding after <eos>, so the check above bites.
