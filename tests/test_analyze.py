"""The analyze command: the paper's figures (PCA, BLEU by length and by rarity) and attention heat maps."""

import csv
import json
import os
import shutil

import numpy as np
import pytest
import sacrebleu
import tensorflow as tf

from tf_seq2seq import analysis, tokenizer, vocab
from tf_seq2seq import config as config_lib
from tf_seq2seq import loading

from helpers import PAIRS, cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_analyze_pca_writes_the_figure_and_projector_files(trained_model_dir, tmp_path):
    output = str(tmp_path / "pca.png")
    result = cli("analyze", "pca", f"--model_dir={trained_model_dir}", f"--output={output}")
    assert result.returncode == 0, result.stderr
    assert open(output, "rb").read(8) == PNG_SIGNATURE
    vectors = np.loadtxt(os.path.join(output + ".projector", "vectors.tsv"), delimiter="\t")
    labels = open(os.path.join(output + ".projector", "metadata.tsv"), encoding="utf-8").read().splitlines()
    assert vectors.shape == (len(analysis.PAPER_PHRASES), 2 * 2 * 48)
    assert labels == list(analysis.PAPER_PHRASES)


def test_analyze_pca_of_known_phrases_gives_distinct_vectors(trained_model_dir, tmp_path):
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("".join(en + "\n" for en, _ in PAIRS), encoding="utf-8")
    output = str(tmp_path / "pca.png")
    result = cli("analyze", "pca", f"--model_dir={trained_model_dir}", f"--output={output}",
                 f"--phrases_file={phrases}")
    assert result.returncode == 0, result.stderr
    vectors = np.loadtxt(os.path.join(output + ".projector", "vectors.tsv"), delimiter="\t")
    assert vectors.shape[0] == len(PAIRS)
    assert len({tuple(v) for v in vectors}) == len(PAIRS)


# What an earlier `evaluate --split=test` wrote: six of the eight PAIRS right, two wrong.
HYPOTHESES = [fr for _, fr in PAIRS]
HYPOTHESES[4], HYPOTHESES[6] = "J'ai chaud.", "Nous aimons les chiens."


@pytest.fixture(scope="module")
def evaluated_model_dir(trained_model_dir, tmp_path_factory):
    """A copy of the trained model's directory (not written to: other tests share it) with
    `eval_test.hyp` holding `HYPOTHESES`."""
    model_dir = str(tmp_path_factory.mktemp("analysis") / "model")
    shutil.copytree(trained_model_dir, model_dir, ignore=shutil.ignore_patterns("train", "eval*"))
    with open(os.path.join(model_dir, "eval_test.hyp"), "w", encoding="utf-8") as f:
        f.writelines(h + "\n" for h in HYPOTHESES)
    return model_dir


def bleu_of(indices):
    """sacrebleu's corpus BLEU of `HYPOTHESES` against PAIRS' French, on the sentences `indices`."""
    return sacrebleu.corpus_bleu([HYPOTHESES[i] for i in indices], [[PAIRS[i][1] for i in indices]]).score


def source_ranks(model_dir):
    """The average word-frequency rank of each source of PAIRS under the model's vocabulary."""
    source, _ = tokenizer.from_model_dir(model_dir, "word")
    ids = source.tokenize(tf.constant([en for en, _ in PAIRS])).to_list()
    return analysis.average_frequency_ranks(ids, source.vocab_size)


@pytest.mark.parametrize("command", ["length", "rarity"])
def test_analyze_plots_bleu_buckets_of_an_evaluate_run(command, evaluated_model_dir, tmp_path):
    output = str(tmp_path / f"{command}.png")
    result = cli("analyze", command, f"--model_dir={evaluated_model_dir}", "--split=test", f"--output={output}")
    assert result.returncode == 0, result.stderr
    assert open(output, "rb").read(8) == PNG_SIGNATURE
    rows = list(csv.DictReader(open(output + ".csv", encoding="utf-8")))
    everything = range(len(PAIRS))
    assert result.stdout.startswith(f"all: {len(PAIRS)} sentences, BLEU {bleu_of(everything):.2f}\n")
    if command == "length":  # Every source has 1 to 4 words: one bucket.
        assert [(r["low"], r["high"], r["sentences"]) for r in rows] == [("1", "4", str(len(PAIRS)))]
        assert float(rows[0]["bleu"]) == pytest.approx(bleu_of(everything), abs=1e-9)
        return
    ranks = source_ranks(evaluated_model_dir)
    assert sum(int(r["sentences"]) for r in rows) == len(PAIRS)
    for row in rows:
        chosen = [i for i in everything if float(row["low"]) <= ranks[i] <= float(row["high"])]
        assert int(row["sentences"]) == len(chosen) > 0
        assert float(row["bleu"]) == pytest.approx(bleu_of(chosen), abs=1e-9)


def test_analyze_needs_one_known_command(tmp_path):
    result = cli("analyze", "plot", f"--output={tmp_path}/x.png")
    assert result.returncode == 2 and "expected one command, pca or length or rarity" in result.stderr


def test_analyze_attention_draws_a_heat_map_per_sentence(attention_model_dir, tmp_path):
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("We love cats.\nGo.\n", encoding="utf-8")
    output = str(tmp_path / "attention.png")
    result = cli("analyze", "attention", f"--model_dir={attention_model_dir}", f"--output={output}",
                 f"--phrases_file={phrases}")
    assert result.returncode == 0, result.stderr
    assert open(output, "rb").read(8) == PNG_SIGNATURE
    rows = json.load(open(output + ".json", encoding="utf-8"))
    translator, _ = loading.from_model_dir(config_lib.load(attention_model_dir), attention_model_dir)
    for row, sentence in zip(rows, ["We love cats.", "Go."]):
        ids = translator.source_tokenizer.tokenize(tf.constant([sentence]))[0].numpy()
        words = vocab.read(translator.source_tokenizer.vocab_path)
        assert row["source"] == [words[i] for i in ids]  # Reading order, not the reversed input.
        assert 1 <= len(row["output"]) <= config_lib.load(attention_model_dir).max_decode_length
        weights = np.array(row["weights"])
        assert weights.shape == (len(row["output"]), len(row["source"]))
        np.testing.assert_allclose(weights.sum(1), 1.0, atol=1e-5)
