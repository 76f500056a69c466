"""The paper's analyses: sentence vectors in 2-D (Figure 2), BLEU by sentence length and by
word rarity (Figure 3).

Figures are drawn with matplotlib, an optional dependency
(`pip install -e .[analysis]`); the numbers are written as text files too.
"""

import csv
import os

import numpy as np
import sacrebleu

from tf_seq2seq import evaluation
from tf_seq2seq import vocab
from tf_seq2seq.errors import Seq2SeqError

# The paper's Figure 2 phrases: word order matters, voice does not.
PAPER_PHRASES = (
    "John admires Mary",
    "Mary admires John",
    "John respects Mary",
    "Mary respects John",
    "John is in love with Mary",
    "Mary is in love with John",
    "I gave her a card in the garden",
    "In the garden , I gave her a card",
    "She was given a card by me in the garden",
    "She gave me a card in the garden",
    "In the garden , she gave me a card",
    "I was given a card by her in the garden",
)
# Source-length buckets (words) of Figure 3.
LENGTH_BUCKETS = ((1, 4), (5, 7), (8, 11), (12, 17), (18, 25), (26, 35), (36, 79))
# Equal-count buckets of average word-frequency rank (Figure 3, right).
RANK_BUCKETS = 8


def pca_2d(vectors):
    """Projects vectors on their first two principal components.

    Args:
        vectors: float array [N, D], N >= 2.

    Returns:
        float array [N, 2].
    """
    centered = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centered, full_matrices=False)
    return centered @ components[:2].T


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise Seq2SeqError("figures need matplotlib: pip install -e '.[analysis]'") from None
    return plt


def plot_pca(points, labels, path):
    """Draws labelled 2-D points (Figure 2) to a PNG file."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 6))
    axes.scatter(points[:, 0], points[:, 1])
    for (x, y), label in zip(points, labels):
        axes.annotate(label, (x, y), fontsize=8, xytext=(3, 3), textcoords="offset points")
    axes.set_title("2-D PCA of the encoder's final states")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_projector_files(vectors, labels, directory):
    """Writes `vectors.tsv` and `metadata.tsv` for TensorBoard's embedding projector."""
    os.makedirs(directory, exist_ok=True)
    np.savetxt(os.path.join(directory, "vectors.tsv"), vectors, delimiter="\t", fmt="%.6g")
    with open(os.path.join(directory, "metadata.tsv"), "w", encoding="utf-8") as f:
        f.writelines(label + "\n" for label in labels)


def bleu_by_bucket(values, buckets, references, hypotheses):
    """Corpus BLEU of the sentences whose value falls in each bucket.

    Args:
        values: one number per sentence (e.g. its source length).
        buckets: `(low, high)` pairs, inclusive.
        references: aligned list of lists of references.
        hypotheses: aligned list of translations.

    Returns:
        A list of dicts `{"low", "high", "sentences", "bleu"}` for the
        non-empty buckets.
    """
    rows = []
    for low, high in buckets:
        chosen = [i for i, value in enumerate(values) if low <= value <= high]
        if not chosen:
            continue
        streams = evaluation.reference_streams([references[i] for i in chosen])
        bleu = sacrebleu.corpus_bleu([hypotheses[i] for i in chosen], streams).score
        rows.append({"low": low, "high": high, "sentences": len(chosen), "bleu": bleu})
    return rows


def bleu_by_length(sources, references, hypotheses, buckets=LENGTH_BUCKETS):
    """BLEU by source length in words (Figure 3, left); see `bleu_by_bucket`."""
    return bleu_by_bucket([len(s.split()) for s in sources], buckets, references, hypotheses)


def average_frequency_ranks(ids, vocab_size):
    """Each sentence's average word-frequency rank (Figure 3, right).

    Args:
        ids: list of int lists, source ids of a word vocabulary sorted by
            frequency (special tokens first, `vocab.UNK_ID` for the rest).
        vocab_size: the vocabulary's size; an unknown word ranks last.

    Returns:
        float list: the mean rank (0 = most frequent word) per sentence, 0 for
        an empty one.
    """
    specials = len(vocab.SPECIALS)
    ranks = [
        [vocab_size - specials if i == vocab.UNK_ID else i - specials for i in sentence]
        for sentence in ids
    ]
    return [float(np.mean(r)) if r else 0.0 for r in ranks]


def rank_buckets(ranks, count=RANK_BUCKETS):
    """`count` buckets of `ranks` holding about as many sentences each."""
    edges = np.quantile(np.asarray(ranks, dtype=float), np.linspace(0, 1, count + 1))
    lows = [edges[0]] + [np.nextafter(e, np.inf) for e in edges[1:-1]]
    return [(float(low), float(high)) for low, high in zip(lows, edges[1:]) if low <= high]


def bleu_by_rarity(ranks, references, hypotheses):
    """BLEU by average word-frequency rank (Figure 3, right); see `bleu_by_bucket`."""
    return bleu_by_bucket(ranks, rank_buckets(ranks), references, hypotheses)


def write_bucket_table(rows, path):
    """Writes `bleu_by_bucket` rows as CSV."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["low", "high", "sentences", "bleu"])
        writer.writeheader()
        writer.writerows(rows)


def plot_bucket_table(rows, path, xlabel, label_format="{:g}-{:g}"):
    """Draws BLEU against buckets (Figure 3) to a PNG file."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 4))
    positions = range(len(rows))
    axes.plot(positions, [r["bleu"] for r in rows], marker="o")
    axes.set_xticks(positions, [label_format.format(r["low"], r["high"]) for r in rows])
    axes.set_xlabel(xlabel)
    axes.set_ylabel("BLEU")
    axes.set_title(f"BLEU by {xlabel}")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
