"""evaluation: sacrebleu scores over several references, perplexity, and an evaluation's files."""

import json

import numpy as np
import pytest
import sacrebleu
import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import evaluation, serving
from tf_seq2seq import loading
from tf_seq2seq.errors import Seq2SeqError

from helpers import PAIRS, REFERENCES, SOURCES, teacher_forced_perplexity


def test_reference_streams_fill_missing_references_with_none():
    assert evaluation.reference_streams([["a"], ["b", "c", "d"], ["e", "f"]]) == [
        ["a", "b", "e"], [None, "c", "f"], [None, "d", None]]


def test_scores_are_sacrebleus_bleu_and_chrf_against_every_reference():
    hypotheses = ["the cat sat on the mat all day", "a dog runs in the big green park"]
    references = [["the cat sat on the mat all day"],
                  ["the dog runs in the park", "a dog runs in the big green park"]]
    scores = evaluation.score(hypotheses, references)
    assert scores["bleu"] == pytest.approx(100.0)  # Each hypothesis is one of its references.
    streams = [[references[0][0], references[1][0]], [None, references[1][1]]]
    assert scores["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hypotheses, streams).score, abs=1e-9)
    first_only = evaluation.score(hypotheses, [refs[:1] for refs in references])
    expected = sacrebleu.corpus_bleu(hypotheses, [[refs[0] for refs in references]]).score
    assert first_only["bleu"] == pytest.approx(expected, abs=1e-9) and expected < 90.0
    assert "tok:13a" in scores["sacrebleu_signature"] and "case:mixed" in scores["sacrebleu_signature"]


def test_repeated_sources_are_grouped_with_all_their_references_in_first_seen_order():
    pairs = [("b", "y"), ("a", "x"), ("b", "z"), ("a", "x")]
    assert evaluation.group_references(pairs) == (["b", "a"], [["y", "z"], ["x", "x"]])


def test_reference_files_are_grouped_and_must_align(tmp_path):
    (tmp_path / "s.en").write_text("Go.\nHi.\nGo.\n", encoding="utf-8")
    (tmp_path / "r.fr").write_text("Va !\nSalut.\nAllez !\n", encoding="utf-8")
    (tmp_path / "short.fr").write_text("Va !\n", encoding="utf-8")
    assert evaluation.read_file_references(str(tmp_path / "s.en"), str(tmp_path / "r.fr")) == (
        ["Go.", "Hi."], [["Va !", "Allez !"], ["Salut."]])
    with pytest.raises(Seq2SeqError, match=r"s\.en has 3 lines but .*short\.fr has 1$"):
        evaluation.read_file_references(str(tmp_path / "s.en"), str(tmp_path / "short.fr"))
    with pytest.raises(Seq2SeqError, match=r"file not found: .*none\.fr$"):
        evaluation.read_file_references(str(tmp_path / "s.en"), str(tmp_path / "none.fr"))


def test_perplexity_is_exp_of_the_mean_token_cross_entropy_within_the_length_limits(trained_model_dir):
    config = config_lib.load(trained_model_dir)
    translator, _ = loading.from_model_dir(config, trained_model_dir)
    pairs = PAIRS + [("We love cats.", "Nous adorons les chats.")]  # One unseen reference.
    too_long = (" ".join(["Go."] * (config.max_source_length + 1)), "Va !")
    dataset = tf.data.Dataset.from_tensor_slices({
        "source": [s for s, _ in pairs + [too_long]], "target": [t for _, t in pairs + [too_long]]})
    perplexity = evaluation.Perplexity(
        translator.keras_models[0], translator.source_tokenizer, translator.target_tokenizer, config, dataset
    )()
    assert perplexity == pytest.approx(teacher_forced_perplexity(trained_model_dir, pairs), rel=1e-5)
    assert perplexity > teacher_forced_perplexity(trained_model_dir, PAIRS) > 1.0


def test_evaluating_an_exported_model_writes_scores_hypotheses_and_the_nbest(
        exported_model, trained_model_dir, tmp_path):
    loaded = serving.load(exported_model)
    prefix = str(tmp_path / "out" / "eval_test")
    results = evaluation.evaluate(loaded.signatures["beam_search"], SOURCES, REFERENCES, 3, prefix,
                                  batch_size=3, num_hypotheses=3, split="test")
    with open(prefix + ".json", encoding="utf-8") as f:
        assert json.load(f) == results
    with open(prefix + ".hyp", encoding="utf-8") as f:
        hypotheses = f.read().splitlines()
    assert hypotheses == [fr for _, fr in PAIRS]  # The tiny model memorised the pairs.
    assert results["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hypotheses, [hypotheses]).score)
    assert {key: results[key] for key in ("num_sentences", "num_references", "beam_size", "split")} == {
        "num_sentences": len(PAIRS), "num_references": len(PAIRS), "beam_size": 3, "split": "test"}
    with open(prefix + ".nbest", encoding="utf-8") as f:
        rows = [line.split("\t") for line in f.read().splitlines()]
    assert [(int(row[0]), int(row[1])) for row in rows] == [(i, r) for i in range(len(PAIRS)) for r in (1, 2, 3)]
    # In batches of 3 (8 = 3 + 3 + 2), the n-best of the checkpoint the export was made from.
    translator, _ = loading.from_model_dir(config_lib.load(trained_model_dir), trained_model_dir)
    expected = translator.beam_search(tf.constant(SOURCES), tf.constant(3), tf.constant(3))
    assert [row[3] for row in rows] == [t.decode() for row in expected["translations"].numpy() for t in row]
    np.testing.assert_allclose([float(row[2]) for row in rows], expected["scores"].numpy().ravel(), atol=1e-4)
