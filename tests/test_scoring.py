"""Scoring given translations: teacher-forced log-probs, in process and in the exported `score` signature."""

import json

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import decoding, nbest, pipeline, predict_requests, serving, training, vocab
from tf_seq2seq import translator as translator_lib

from conftest import PAIRS, run_python, tiny_config

SOURCES = [en for en, _ in PAIRS]
TARGETS = [fr for _, fr in PAIRS]


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
    translator, _ = translator_lib.from_model_dirs(config_lib.load(trained_model_dir), model_dirs)
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
    translator, _ = translator_lib.from_model_dirs(config, model_dirs)
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
    translator, _ = translator_lib.from_model_dir(config, trained_model_dir)
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


# Loads the SavedModel through the TF1 session API by tensor names, as TF Serving does, and scores.
TF1_SCORE_CLIENT = """
import json, sys
import tensorflow as tf
import tensorflow_text  # Registers the tf-text ops used by the graph.
sentences, translations = json.load(sys.stdin)
with tf.Graph().as_default(), tf.compat.v1.Session() as session:
    meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], sys.argv[1])
    signature = meta_graph.signature_def["score"]
    outputs = session.run(
        {name: info.name for name, info in signature.outputs.items()},
        {signature.inputs["sentences"].name: sentences, signature.inputs["translations"].name: translations},
    )
print(json.dumps({name: value.tolist() for name, value in outputs.items()}))
"""


def test_exported_score_signature_in_a_tf1_session_scores_as_in_process(exported_model, trained_model_dir):
    translator, _ = translator_lib.from_model_dir(config_lib.load(trained_model_dir), trained_model_dir)
    # Hostile inputs too: empty, control characters, a 100k-character line.
    sources = SOURCES + ["", "\x00\x07😀", "Go. " * 25000]
    targets = TARGETS + ["Va !", "", "x" * 100000]
    result = run_python(["-c", TF1_SCORE_CLIENT, exported_model], input=json.dumps([sources, targets]))
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    expected = translator.score_signature(tf.constant(sources), tf.constant(targets))
    assert set(loaded) == {"log_probs", "lengths", "normalized_scores", "token_log_probs", "truncated"}
    np.testing.assert_allclose(loaded["log_probs"], expected["log_probs"].numpy(), atol=1e-4)
    assert loaded["lengths"] == expected["lengths"].numpy().tolist()
    assert loaded["truncated"] == [False] * 10 + [True]
    assert np.isfinite(loaded["log_probs"]).all()


def test_the_warmup_file_scores_translations_of_growing_length(exported_model):
    requests = [r for r in predict_requests.read_warmup_file(exported_model) if r.model_spec.signature_name == "score"]
    assert len(requests) == 1
    inputs = predict_requests.request_inputs(requests[0])
    lengths = [len(t.split()) for t in inputs["translations"].numpy()]
    assert lengths == [0, 1, 10, 50] and inputs["sentences"].shape == (4,)
    outputs = serving.load(exported_model).signatures["score"](**inputs)
    assert np.isfinite(outputs["log_probs"].numpy()).all()


def score_cli(*flags, **kwargs):
    return run_python(["-m", "tf_seq2seq.score", *flags], **kwargs)


def test_score_command_prints_one_score_per_line_as_the_model_scores(trained_model_dir, tmp_path):
    source, target = tmp_path / "s.en", tmp_path / "t.fr"
    source.write_text("".join(s + "\n" for s in SOURCES), encoding="utf-8")
    target.write_text("".join(t + "\n" for t in TARGETS[1:] + TARGETS[:1]), encoding="utf-8")
    result = score_cli(f"--model_dir={trained_model_dir}", f"--source={source}", f"--target={target}",
                       "--translate_batch_size=3")
    assert result.returncode == 0, result.stderr[-3000:]
    translator, _ = translator_lib.from_model_dir(config_lib.load(trained_model_dir), trained_model_dir)
    expected = translator.score_signature(tf.constant(SOURCES), tf.constant(TARGETS[1:] + TARGETS[:1]))
    printed = [float(line) for line in result.stdout.splitlines()]
    np.testing.assert_allclose(printed, expected["normalized_scores"].numpy(), atol=2e-6)


def test_score_command_reranks_a_moses_nbest_list_with_its_feature(exported_model, trained_model_dir, tmp_path):
    translator, _ = translator_lib.from_model_dir(config_lib.load(trained_model_dir), trained_model_dir)
    source = tmp_path / "s.en"
    source.write_text("".join(s + "\n" for s in SOURCES[:3]), encoding="utf-8")
    # Per sentence: another pair's target ranked first by the list, the reference second.
    lines = [f"{i} ||| {hypothesis} ||| LM0= {-1 - rank} ||| {-1.0 - rank}"
             for i in range(3) for rank, hypothesis in enumerate([TARGETS[i + 1], TARGETS[i]])]
    (tmp_path / "in.nbest").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    result = score_cli(f"--saved_model={exported_model}", f"--source={source}", f"--nbest={tmp_path / 'in.nbest'}",
                       f"--nbest_output={tmp_path / 'out.nbest'}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == TARGETS[:3]  # The model knows the references.
    out = nbest.parse((tmp_path / "out.nbest").read_text(encoding="utf-8").splitlines(), "out.nbest")
    ours = translator.score_signature(
        tf.constant([SOURCES[i] for i in range(3) for _ in range(2)]),
        tf.constant([out_entry.hypothesis for out_entry in out]),
    )["log_probs"].numpy()
    for entry, score in zip(out, ours):
        assert entry.features[0][0] == "LM0" and entry.features[1][0] == "seq2seq"
        assert entry.features[1][1][0] == pytest.approx(score, abs=1e-4)
        line_total = -1.0 - (TARGETS.index(entry.hypothesis) == entry.sentence)  # The reference ranked second.
        assert entry.total == pytest.approx(0.5 * line_total + 0.5 * entry.features[1][1][0], abs=1e-9)


def test_score_command_names_the_bad_nbest_line(trained_model_dir, tmp_path):
    (tmp_path / "s.en").write_text("Go.\n", encoding="utf-8")
    (tmp_path / "in.nbest").write_text("0 ||| Va ! ||| LM0= -1 ||| -1\n0 ||| Va ||| -1\n", encoding="utf-8")
    result = score_cli(f"--model_dir={trained_model_dir}", f"--source={tmp_path / 's.en'}",
                       f"--nbest={tmp_path / 'in.nbest'}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {tmp_path / 'in.nbest'}:2: expected")
