"""Optional attention (--attention): masks, decoding steps, beam search, ensembles, export; heat maps need it."""

import itertools
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import analysis, decode_step, decoding, ensemble, log_softmax, model, serving, vocab
from tf_seq2seq import loading
from tf_seq2seq.errors import Seq2SeqError

from helpers import (
    ALLOWED, MAX_LENGTH, TF_TEXT_2_12_OPS, VOCAB, assert_same_as_in_process, assert_survives_hostile_inputs,
    assert_xla_decodes_like_beam_search, client_on_sentences, non_core_ops, strip,
)

KINDS = ["luong", "bahdanau"]
# Right-padded (reversed) sources: the second is the first one's last two tokens.
SOURCES = [[5, 6, 7, 8, 9], [8, 9, 0, 0, 0]]
TARGET_IN = [[vocab.BOS_ID, 4, 5, 4], [vocab.BOS_ID, 5, 0, 0]]


def tiny_model(kind, target_vocab_size=VOCAB):
    """An untrained model with peaked distributions (large initial weights), seeded."""
    keras.utils.set_random_seed(0)
    config = config_lib.Config(num_layers=2, units=16, embedding_dim=8, init_scale=0.5, attention=kind)
    return model.Seq2Seq(config, 12, target_vocab_size)


def features(sources=SOURCES, target_in=TARGET_IN):
    return {"source": tf.constant(sources), "target_in": tf.constant(target_in)}


@pytest.mark.parametrize("kind", KINDS)
def test_attention_weights_are_exactly_zero_on_padding_and_sum_to_one(kind):
    weights = tiny_model(kind).alignment_model(features()).numpy()  # [B, T, S]
    assert weights.shape == (2, 4, 5)
    assert np.all(weights[1, :, 2:] == 0.0)
    assert np.all(weights[1, :, :2] > 0.0) and np.all(weights[0] > 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_a_padded_source_gives_the_same_output_as_alone(kind):
    seq2seq = tiny_model(kind)
    alone = features([SOURCES[1][:2]], [TARGET_IN[1]])
    batched = features()
    np.testing.assert_allclose(seq2seq.training_model(alone)[0], seq2seq.training_model(batched)[1], atol=1e-5)
    np.testing.assert_allclose(seq2seq.logits(alone)[0], seq2seq.logits(batched)[1], atol=1e-5)

    def search(sources):
        states, constants = seq2seq.initial_states(tf.constant(sources))
        return decoding.beam_search(decode_step.step_fn(seq2seq), states, 3, MAX_LENGTH, constants=constants)

    single, both = search([SOURCES[1][:2]]), search(SOURCES)
    np.testing.assert_array_equal(single.ids[0], both.ids[1])
    np.testing.assert_allclose(single.log_probs[0], both.log_probs[1], atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_decoding_steps_compute_the_training_models_log_probs(kind):
    seq2seq = tiny_model(kind)
    expected = tf.nn.log_softmax(seq2seq.training_model(features())).numpy()
    step_fn, (states, constants) = decode_step.step_fn(seq2seq), seq2seq.initial_states(tf.constant(SOURCES))
    assert len(states) == seq2seq.num_states == 4
    assert len(constants) == seq2seq.num_constants == (2 if kind == "luong" else 3)
    for t in range(2):  # Both sentences' real target positions.
        scores, states = step_fn(tf.constant(TARGET_IN)[:, t], states, constants)
        np.testing.assert_allclose(log_softmax.to_log_probs(scores), expected[:, t], atol=1e-5)


def teacher_forced_log_probs(seq2seq, source, hypotheses):
    """Summed log-probs float [H] of token lists ending in <eos> or at MAX_LENGTH, for one source."""
    target_in = [[vocab.BOS_ID] + h[:-1] + [vocab.PAD_ID] * (MAX_LENGTH - len(h)) for h in hypotheses]
    log_probs = tf.nn.log_softmax(
        seq2seq.training_model(features([source] * len(hypotheses), target_in))
    ).numpy()
    return np.array([sum(log_probs[i, t, token] for t, token in enumerate(h)) for i, h in enumerate(hypotheses)])


@pytest.mark.parametrize("kind", KINDS)
def test_wide_beam_finds_the_exhaustive_n_best_of_an_attention_model(kind):
    seq2seq = tiny_model(kind)
    hypotheses = [
        list(tokens) for length in range(1, MAX_LENGTH + 1) for tokens in itertools.product(ALLOWED, repeat=length)
        if vocab.EOS_ID not in tokens[:-1] and (length == MAX_LENGTH or tokens[-1] == vocab.EOS_ID)
    ]
    beam = len(ALLOWED) ** MAX_LENGTH  # Wide enough to keep every prefix.
    states, constants = seq2seq.initial_states(tf.constant(SOURCES))
    found = decoding.beam_search(decode_step.step_fn(seq2seq), states, beam, MAX_LENGTH, constants=constants)
    for sentence, source in enumerate(SOURCES):
        scores = teacher_forced_log_probs(seq2seq, source, hypotheses)
        best = np.argsort(-scores)[:5]
        assert [strip(ids) for ids in found.ids[sentence, :5].numpy()] == [hypotheses[i] for i in best]
        np.testing.assert_allclose(found.log_probs[sentence, :5], scores[best], atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_beam_of_one_is_greedy_for_an_attention_model(kind):
    seq2seq = tiny_model(kind)
    states, constants = seq2seq.initial_states(tf.constant(SOURCES))
    found = decoding.beam_search(decode_step.step_fn(seq2seq), states, 1, MAX_LENGTH, constants=constants)
    for sentence, source in enumerate(SOURCES):
        tokens = []
        while len(tokens) < MAX_LENGTH and vocab.EOS_ID not in tokens:
            target_in = [[vocab.BOS_ID] + tokens]
            log_probs = seq2seq.training_model(features([source], target_in))[0, -1].numpy()
            tokens.append(max(ALLOWED, key=lambda token: log_probs[token]))
        assert strip(found.ids[sentence, 0].numpy()) == tokens


def test_an_ensemble_of_attention_and_paper_models_averages_their_log_probs():
    members = [tiny_model(kind) for kind in ["luong", "none", "bahdanau"]]
    encoded = [member.initial_states(tf.constant(SOURCES)) for member in members]
    states = [s for member_states, _ in encoded for s in member_states]
    constants = [c for _, member_constants in encoded for c in member_constants]
    step_fn = ensemble.ensemble_step_fn([decode_step.step_fn(m) for m in members], [m.num_states for m in members],
                                        [m.num_constants for m in members])
    log_probs, new_states = step_fn(tf.constant([vocab.BOS_ID] * 2), states, constants)
    # Each member's LSTM states, carried in order; the memories (2 + 3) stay outside.
    assert [s.shape for s in new_states] == [s.shape for s in states] and len(states) == 12
    assert len(constants) == 5
    bos = features(target_in=[[vocab.BOS_ID]] * 2)
    expected = np.mean([tf.nn.log_softmax(m.training_model(bos))[:, 0] for m in members], axis=0)
    np.testing.assert_allclose(log_probs, expected, atol=1e-5)


@pytest.fixture(scope="module")
def attention_export(attention_model_dir, tmp_path_factory):
    """`(version_path, translator)`: the attention model exported with `beam_search_xla` too."""
    config = config_lib.load(attention_model_dir).replace(jit_compile=True)
    path = serving.export_model_dir(config, attention_model_dir, str(tmp_path_factory.mktemp("att") / "tiny"))
    translator, _ = loading.from_model_dir(config, attention_model_dir)
    return path, translator


def test_attention_export_loads_in_a_tf1_session_by_tensor_names(attention_export):
    path, translator = attention_export
    assert serving.saved_config(path).attention == "luong"
    assert_same_as_in_process(client_on_sentences("tf1_session", path), translator)


def test_attention_export_uses_only_core_and_tf_text_2_12_ops(attention_export):
    non_core = non_core_ops(attention_export[0])
    assert non_core and non_core <= TF_TEXT_2_12_OPS


def test_attention_export_xla_signature_decodes_like_beam_search(attention_export):
    assert_xla_decodes_like_beam_search(attention_export[0])


@pytest.mark.slow  # The paper model's hostile-inputs test and the tests above cover its paths.
def test_attention_export_survives_hostile_inputs(attention_export):
    assert_survives_hostile_inputs(attention_export[0])


def test_attention_export_encode_signature_gives_the_final_states_only(attention_export):
    _, translator = attention_export
    vectors = translator.encode_signature(tf.constant(["Go.", "We love cats."]))["vectors"]
    assert vectors.shape == (2, 2 * 2 * 48)  # (h, c) x layers x units, no attention memory.


def test_attention_heat_maps_refuse_a_model_without_attention(attention_model_dir, tmp_path):
    model_dir = str(tmp_path / "paper")
    shutil.copytree(attention_model_dir, model_dir)
    config = config_lib.load(model_dir).replace(attention="none")
    translator, _ = loading.from_model_dir(config, model_dir)
    with pytest.raises(Seq2SeqError, match="need one model trained with --attention"):
        analysis.attention_alignments(translator, ["Go."], config)
