"""The paper's figures: PCA of sentence vectors, BLEU by sentence length and by word rarity."""

import csv
import os
import shutil

import numpy as np
import pytest
import sacrebleu

from tf_seq2seq import analysis, evaluation

from conftest import PAIRS, run_python

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_pca_finds_the_main_direction():
    direction = np.array([3.0, 4.0, 0.0]) / 5.0
    vectors = np.outer(np.arange(-2.0, 3.0), direction) + 10.0
    points, explained = analysis.pca_2d(vectors)
    assert points.shape == (5, 2)
    np.testing.assert_allclose(np.abs(points[:, 0]), [2, 1, 0, 1, 2], atol=1e-9)
    np.testing.assert_allclose(points[:, 1], 0.0, atol=1e-9)
    np.testing.assert_allclose(explained, [1.0, 0.0], atol=1e-9)


def test_pca_explained_variance_is_each_components_share():
    vectors = np.random.default_rng(0).normal(size=(200, 3)) * [3.0, 2.0, 1.0]
    points, explained = analysis.pca_2d(vectors)
    centered = vectors - vectors.mean(axis=0)
    total = np.sum(centered**2)
    np.testing.assert_allclose(explained, np.sum(points**2, axis=0) / total, rtol=1e-9)
    assert 1.0 > explained[0] > explained[1] > 0.0


def test_pca_figure_labels_both_components_with_their_variance_on_equal_scales():
    points = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 1.0], [5.0, -1.0]])
    figure = analysis.pca_figure(points, ["a", "b", "c", "d"], np.array([0.8125, 0.1234]))
    axes = figure.axes[0]
    assert axes.get_xlabel() == "PC1 (81% of the variance)"
    assert axes.get_ylabel() == "PC2 (12% of the variance)"
    figure.canvas.draw()
    (x0, y0), (x1, y1) = axes.transData.transform([(0.0, 0.0), (1.0, 1.0)])
    assert x1 - x0 == pytest.approx(y1 - y0)  # One unit is as long across as up.
    # The close pair a (0, 0) / c (0, 1): a's label goes below, c's above, not over each other.
    offsets = {text.get_text(): text.xyann for text in axes.texts}
    assert offsets["a"][1] < 0 < offsets["c"][1]
    analysis.save(figure, "/dev/null")


def test_bucket_figure_counts_sentences_starts_at_zero_and_explains_the_corpus_line():
    rows = [{"low": 1, "high": 4, "sentences": 1, "bleu": 53.7},
            {"low": 5, "high": 7, "sentences": 85, "bleu": 21.2},
            {"low": 8, "high": 11, "sentences": 455, "bleu": 17.5}]
    figure = analysis.bucket_figure(rows, "source length (words)", corpus_bleu=13.8)
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["1-4\nn = 1", "5-7\nn = 85", "8-11\nn = 455"]
    assert axes.get_ylim()[0] == 0 and axes.get_ylim()[1] > 53.7
    bucket_line, corpus_line = axes.get_lines()
    assert list(bucket_line.get_ydata()) == [53.7, 21.2, 17.5]
    assert list(corpus_line.get_ydata()) == [13.8, 13.8] and corpus_line.get_linestyle() == "--"
    assert [t.get_text() for t in figure.texts] == [analysis.BUCKET_CAPTION]
    analysis.save(figure, "/dev/null")


def test_corpus_bleu_is_not_the_average_of_the_buckets_as_the_caption_says():
    # Short sentences translated well, long ones worse: pooled n-grams weigh the long ones most.
    references = [["a b c d"], ["e f g h"]] + [["one two three four five six seven eight nine ten"]] * 2
    hypotheses = ["a b c d", "e f g x", "one two three four five six nine ten eight seven",
                  "one two three five four six seven eight ten nine"]
    rows = analysis.bleu_by_length([r[0] for r in references], references, hypotheses, ((1, 4), (5, 10)))
    corpus = sacrebleu.corpus_bleu(hypotheses, evaluation.reference_streams(references)).score
    assert rows[0]["bleu"] > corpus
    average = sum(r["sentences"] * r["bleu"] for r in rows) / len(hypotheses)
    assert corpus < average - 5.0


def test_bleu_by_length_buckets_sources_by_words():
    sources = ["a b", "a b c d e f", "a"]
    references = [["le chat est sur le tapis"], ["il fait beau et chaud aujourd'hui"], ["x y z w v"]]
    hypotheses = ["le chat est sur le tapis", "il pleut", "x y z w v"]
    rows = analysis.bleu_by_length(sources, references, hypotheses)
    assert [(r["low"], r["sentences"]) for r in rows] == [(1, 2), (5, 1)]
    assert rows[0]["bleu"] == pytest.approx(100.0)
    assert rows[1]["bleu"] < 10.0


def test_frequency_ranks_put_unknown_words_last():
    # Ids 4.. are words by falling frequency; 1 is <unk>.
    ranks = analysis.average_frequency_ranks([[4, 5], [4, 1], []], vocab_size=10)
    assert ranks == [0.5, 3.0, 0.0]


def test_rarity_buckets_hold_about_equal_counts_and_cover_every_sentence():
    ranks = list(np.random.default_rng(0).exponential(300.0, size=200))
    buckets = analysis.rank_buckets(ranks)
    assert len(buckets) == analysis.RANK_BUCKETS
    counts = [sum(low <= r <= high for r in ranks) for low, high in buckets]
    assert sum(counts) == len(ranks) and min(counts) >= 24
    assert all(high < next_low for (_, high), (next_low, _) in zip(buckets, buckets[1:]))


def analyze(*flags):
    return run_python(["-m", "tf_seq2seq.analyze", *flags])


def test_analyze_pca_writes_the_figure_and_projector_files(trained_model_dir, tmp_path):
    output = str(tmp_path / "pca.png")
    result = analyze("pca", f"--model_dir={trained_model_dir}", f"--output={output}")
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
    result = analyze("pca", f"--model_dir={trained_model_dir}", f"--output={output}",
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
    import tensorflow as tf

    from tf_seq2seq import tokenizer

    source, _ = tokenizer.from_model_dir(model_dir, "word")
    ids = source.tokenize(tf.constant([en for en, _ in PAIRS])).to_list()
    return analysis.average_frequency_ranks(ids, source.vocab_size)


@pytest.mark.parametrize("command", ["length", "rarity"])
def test_analyze_plots_bleu_buckets_of_an_evaluate_run(command, evaluated_model_dir, tmp_path):
    output = str(tmp_path / f"{command}.png")
    result = analyze(command, f"--model_dir={evaluated_model_dir}", "--split=test", f"--output={output}")
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
    result = analyze("plot", f"--output={tmp_path}/x.png")
    assert result.returncode == 2 and "expected one command, pca or length or rarity" in result.stderr
