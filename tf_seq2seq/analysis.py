"""The paper's analyses: sentence vectors in 2-D (Figure 2) and BLEU by sentence length (Figure 3).

Figures are drawn with matplotlib, an optional dependency
(`pip install -e .[analysis]`); the numbers are written as text files too.
"""

import csv
import os

import numpy as np
import sacrebleu

from tf_seq2seq import evaluation
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


def bleu_by_length(sources, references, hypotheses, buckets=LENGTH_BUCKETS):
    """Corpus BLEU of the sentences in each source-length bucket (Figure 3).

    Args:
        sources: list of source sentences (str).
        references: aligned list of lists of references.
        hypotheses: aligned list of translations.
        buckets: `(shortest, longest)` source lengths in words, inclusive.

    Returns:
        A list of dicts `{"min_words", "max_words", "sentences", "bleu"}` for
        the non-empty buckets.
    """
    rows = []
    for shortest, longest in buckets:
        chosen = [i for i, s in enumerate(sources) if shortest <= len(s.split()) <= longest]
        if not chosen:
            continue
        streams = evaluation.reference_streams([references[i] for i in chosen])
        bleu = sacrebleu.corpus_bleu([hypotheses[i] for i in chosen], streams).score
        rows.append({"min_words": shortest, "max_words": longest, "sentences": len(chosen), "bleu": bleu})
    return rows


def write_length_table(rows, path):
    """Writes `bleu_by_length` rows as CSV."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["min_words", "max_words", "sentences", "bleu"])
        writer.writeheader()
        writer.writerows(rows)


def plot_length_table(rows, path):
    """Draws BLEU against source length (Figure 3) to a PNG file."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 4))
    positions = range(len(rows))
    axes.plot(positions, [r["bleu"] for r in rows], marker="o")
    axes.set_xticks(positions, [f"{r['min_words']}-{r['max_words']}" for r in rows])
    axes.set_xlabel("source sentence length (words)")
    axes.set_ylabel("BLEU")
    axes.set_title("BLEU by sentence length")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
