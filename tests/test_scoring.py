"""Scoring given translations: teacher-forced log-probs, in process and in the exported `score` signature."""

import json

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import decoding, pipeline, training, vocab
from tf_seq2seq import loading

from helpers import SOURCES, TARGETS, last_json, run_client, tiny_config


@pytest.fixture(scope="module")
def second_model_dir(tiny_corpus, tmp_path_factory):
    """A second tiny model on the same corpus (same vocabularies), briefly trained."""
    model_dir = str(tmp_path_factory.mktemp("second_model"))
    training.train(tiny_config(tiny_corpus, seed=7, train_steps=40), model_dir)
    return model_dir


def independent_token_log_probs(translator, sources, targets):
    """float [B, T] log-softmax of each member's training model at the target tokens (<eos> last),
    averaged over the members, 0 on padding; computed here without `scoring`."""
    source = pipeline.encode_source(translator.source_tokenizer, tf.constant(sources), True).to_tensor()
    target_in, labels = pipeline.encode_target(translator.target_tokenizer, tf.constant(targets))
    labels = labels.to_tensor().numpy()
    members = [
        tf.nn.log_softmax(model({"source": source, "target_in": target_in.to_tensor()})).numpy()
        for model in translator.keras_models
    ]
    picked = np.mean([np.take_along_axis(m, labels[..., None], -1)[..., 0] for m in members], axis=0)
    return np.where(labels != 0, picked, 0.0), (labels != 0).sum(1)


@pytest.mark.parametrize("ensemble", [False, True])
def test_scores_are_the_sums_of_per_token_log_softmax(trained_model_dir, second_model_dir, ensemble):
    model_dirs = [trained_model_dir, second_model_dir] if ensemble else [trained_model_dir]
    translator, _ = loading.from_model_dirs(config_lib.load(trained_model_dir), model_dirs)
    # Each source with its own translation and with another pair's.
    sources, targets = SOURCES + SOURCES, TARGETS + TARGETS[1:] + TARGETS[:1]
    scored = translator.score_signature(tf.constant(sources), tf.constant(targets))
    expected, lengths = independent_token_log_probs(translator, sources, targets)
    np.testing.assert_allclose(scored["token_log_probs"].numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(scored["log_probs"].numpy(), expected.sum(1), atol=1e-4)
    assert scored["lengths"].numpy().tolist() == lengths.tolist()
    # Length penalty 0: the normalised score is the log-prob.
    assert scored["normalized_scores"].numpy().tolist() == scored["log_probs"].numpy().tolist()
    assert not scored["truncated"].numpy().any()
    # A memorised pair is likelier than a mismatched one.
    assert (scored["log_probs"].numpy()[:8] > scored["log_probs"].numpy()[8:]).all()


@pytest.mark.parametrize("ensemble", [False, True])
def test_beam_search_hypotheses_score_what_the_search_reported(trained_model_dir, second_model_dir, ensemble):
    config = config_lib.load(trained_model_dir).replace(length_penalty=0.6)
    model_dirs = [trained_model_dir, second_model_dir] if ensemble else [trained_model_dir]
    translator, _ = loading.from_model_dirs(config, model_dirs)
    encoded = translator.encode(tf.constant(SOURCES))
    found = decoding.beam_search(translator.step_fn, encoded.states, 3, 20, 0.6, constants=encoded.constants)
    ids = [list(row[: list(row).index(vocab.EOS_ID)]) for rows in found.ids.numpy() for row in rows]
    texts = translator.target_tokenizer.detokenize(tf.ragged.constant(ids))
    # Text is scored: only a hypothesis whose text reads back as its tokens can score the same
    # (two tokens emitted without a space between them read back as one word).
    read_back = translator.target_tokenizer.tokenize(texts).to_list()
    kept = [k for k, tokens in enumerate(read_back) if tokens == ids[k]]
    assert len(kept) >= 20  # Of 24.
    scored = translator.score_signature(tf.constant([s for s in SOURCES for _ in range(3)]), texts)
    np.testing.assert_allclose(scored["log_probs"].numpy()[kept], found.log_probs.numpy().ravel()[kept], atol=1e-4)
    np.testing.assert_allclose(scored["normalized_scores"].numpy()[kept], found.scores.numpy().ravel()[kept],
                               atol=1e-4)


def test_long_inputs_are_cut_and_flagged_and_sizes_must_match(trained_model_dir):
    config = config_lib.load(trained_model_dir).replace(max_decode_length=12)
    translator, _ = loading.from_model_dir(config, trained_model_dir)
    scored = translator.score_signature(
        tf.constant(["Go.", " ".join(["Go."] * 40), "Go."]), tf.constant(["Va !", "Va !", "Va ! " * 20])
    )
    assert scored["truncated"].numpy().tolist() == [False, True, True]
    assert scored["lengths"].numpy().tolist() == [3, 3, 12]  # "Va !" <eos>; cut at max_decode_length.
    assert scored["token_log_probs"].shape == (3, 12)
    with pytest.raises(tf.errors.InvalidArgumentError, match="sentences and translations differ in size"):
        translator.score_signature(tf.constant(["Go.", "Hi."]), tf.constant(["Va !"]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_batch_size=256"):
        translator.score_signature(tf.constant(["Go."] * 257), tf.constant(["Va !"] * 257))
    empty = translator.score_signature(tf.constant([], tf.string), tf.constant([], tf.string))
    assert empty["log_probs"].shape == (0,)


def test_exported_score_signature_in_a_tf1_session_scores_as_in_process(exported_model, trained_model_dir):
    translator, _ = loading.from_model_dir(config_lib.load(trained_model_dir), trained_model_dir)
    # Hostile inputs too: empty, control characters, a 100k-character line.
    sources = SOURCES + ["", "\x00\x07😀", "Go. " * 25000]
    targets = TARGETS + ["Va !", "", "x" * 100000]
    loaded = last_json(run_client("tf1_score", exported_model, input=json.dumps([sources, targets])))
    expected = translator.score_signature(tf.constant(sources), tf.constant(targets))
    assert set(loaded) == {"log_probs", "lengths", "normalized_scores", "token_log_probs", "truncated"}
    np.testing.assert_allclose(loaded["log_probs"], expected["log_probs"].numpy(), atol=1e-4)
    assert loaded["lengths"] == expected["lengths"].numpy().tolist()
    assert loaded["truncated"] == [False] * 10 + [True]
    assert np.isfinite(loaded["log_probs"]).all()
