"""The paper's figures: PCA of sentence vectors, BLEU by sentence length and by word rarity."""

import numpy as np
import pytest
import sacrebleu

from tf_seq2seq import analysis, evaluation


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
