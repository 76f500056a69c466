"""The paper's analyses: sentence vectors in 2-D (Figure 2), BLEU by sentence length and by
word rarity (Figure 3); and, for models trained with `--attention`, attention heat maps.

Figures are drawn with matplotlib, an optional dependency
(`pip install -e .[analysis]`); the numbers are written as text files too.
"""

import csv
import json
import os

import numpy as np
import sacrebleu
import tensorflow as tf

from tf_seq2seq import decoding
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
# Default sentences of the attention heat maps: the same words in two orders.
ATTENTION_SENTENCES = PAPER_PHRASES[6:8]
# Source-length buckets (words) of Figure 3.
LENGTH_BUCKETS = ((1, 4), (5, 7), (8, 11), (12, 17), (18, 25), (26, 35), (36, 79))
# Equal-count buckets of average word-frequency rank (Figure 3, right).
RANK_BUCKETS = 8


def pca_2d(vectors):
    """Projects vectors on their first two principal components.

    Args:
        vectors: float array [N, D], N >= 2, D >= 2.

    Returns:
        `(points, explained)`: float arrays [N, 2], the coordinates, and [2],
        the fraction of the total variance along each component (0 if the
        vectors are all equal).
    """
    centered = vectors - vectors.mean(axis=0)
    _, singular_values, components = np.linalg.svd(centered, full_matrices=False)
    explained = singular_values[:2] ** 2 / max(float(np.sum(singular_values**2)), np.finfo(float).tiny)
    return centered @ components[:2].T, explained


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise Seq2SeqError("figures need matplotlib: pip install -e '.[analysis]'") from None
    return plt


def save(figure, path):
    """Writes a matplotlib figure to a PNG file and frees it."""
    figure.savefig(path, dpi=120)
    _pyplot().close(figure)


def pca_figure(points, labels, explained):
    """Labelled 2-D points (Figure 2) on axes of equal scale.

    Args:
        points: float array [N, 2] from `pca_2d`.
        labels: N phrases.
        explained: float array [2], the variance fractions from `pca_2d`.

    Returns:
        A matplotlib figure (write it with `save`).
    """
    figure, axes = _pyplot().subplots(figsize=(8, 6))
    axes.scatter(points[:, 0], points[:, 1])
    for (x, y), label, above in zip(points, labels, _above_nearest(points)):
        axes.annotate(label, (x, y), fontsize=8, xytext=(4, 4 if above else -11),
                      textcoords="offset points")
    # One unit is as long on both axes, so distances on the page are distances between vectors.
    axes.set_aspect("equal", adjustable="datalim")
    axes.set_xlabel(f"PC1 ({explained[0]:.0%} of the variance)")
    axes.set_ylabel(f"PC2 ({explained[1]:.0%} of the variance)")
    axes.set_title("2-D PCA of the encoder's final states")
    figure.tight_layout()
    return figure


def _above_nearest(points):
    """For each 2-D point, whether it lies above its nearest neighbour (labels then go
    above the upper point and below the lower one of a close pair, not over each other)."""
    distances = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
    np.fill_diagonal(distances, np.inf)
    return points[:, 1] >= points[np.argmin(distances, axis=1), 1]


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


# Printed under the BLEU-by-bucket figures.
BUCKET_CAPTION = (
    "n = sentences per bucket. Corpus BLEU is not the average of the buckets' BLEU: it pools n-gram matches\n"
    "over all sentences, so each bucket weighs by its n-gram count (long sentences most; short ones add few\n"
    "or no 4-grams), and each bucket has its own brevity penalty. So buckets of shorter sentences can score\n"
    "above the corpus BLEU. Small buckets are noisy."
)


def bucket_figure(rows, xlabel, corpus_bleu, label_format="{:g}-{:g}"):
    """BLEU against buckets (Figure 3), y from 0, each bucket's sentence count under it.

    Args:
        rows: `bleu_by_bucket` rows.
        xlabel: what the buckets count, e.g. "source length (words)".
        corpus_bleu: BLEU of all the sentences, drawn as a dashed line.
        label_format: formats a bucket's `(low, high)` as its tick label.

    Returns:
        A matplotlib figure (write it with `save`), captioned `BUCKET_CAPTION`.
    """
    figure, axes = _pyplot().subplots(figsize=(7, 5))
    positions = range(len(rows))
    axes.plot(positions, [r["bleu"] for r in rows], marker="o", label="bucket BLEU")
    axes.axhline(corpus_bleu, color="gray", linestyle="--", label=f"corpus BLEU {corpus_bleu:.1f}")
    axes.set_xticks(
        positions, [label_format.format(r["low"], r["high"]) + f"\nn = {r['sentences']}" for r in rows],
        fontsize=8,
    )
    axes.set_ylim(0, 1.15 * max([corpus_bleu, 1.0] + [r["bleu"] for r in rows]))
    axes.set_xlabel(xlabel)
    axes.set_ylabel("BLEU")
    axes.set_title(f"BLEU by {xlabel}")
    axes.legend(loc="upper right", fontsize=8)
    figure.text(0.02, 0.02, BUCKET_CAPTION, fontsize=7.5, va="bottom")
    figure.tight_layout(rect=(0, 0.12, 1, 1))
    return figure


def attention_alignments(translator, sentences, config):
    """Translates sentences and reads the attention of each output word over the source words.

    The model translates with beam search (`config.beam_size`); the attention
    weights are those of the model reading its own best translation (teacher
    forcing), so output word j's row is the attention used to predict it.

    Args:
        translator: a `translator.Translator` of one model trained with `--attention`.
        sentences: list of str.
        config: the model's `config.Config`.

    Returns:
        One dict per sentence: `source` (source tokens in reading order, after
        truncation), `output` (output tokens, `<eos>` included) and `weights`
        (float array [len(output), len(source)], rows summing to 1).

    Raises:
        Seq2SeqError: for an ensemble or a model without attention.
    """
    if len(translator.members) != 1 or translator.members[0].attention is None:
        raise Seq2SeqError("attention heat maps need one model trained with --attention=luong or bahdanau")
    encoded = translator.encode(tf.constant(sentences, tf.string))
    source_ids = encoded.source_ids
    found = decoding.beam_search(translator.step_fn, encoded.states, config.beam_size, config.max_decode_length,
                                 constants=encoded.constants)
    outputs = [_through_eos(ids) for ids in found.ids[:, 0].numpy().tolist()]
    width = max(len(ids) for ids in outputs) if outputs else 0
    target_in = [[vocab.BOS_ID] + ids[:-1] + [vocab.PAD_ID] * (width - len(ids)) for ids in outputs]
    weights = translator.members[0].alignment_model(
        {"source": source_ids, "target_in": tf.constant(target_in, tf.int32, [len(outputs), width])}
    ).numpy()
    source_words = vocab.read(translator.source_tokenizer.vocab_path)
    output_words = vocab.read(translator.target_tokenizer.vocab_path)
    rows = []
    for ids, sentence_weights, source in zip(outputs, weights, source_ids.numpy()):
        length = int(np.sum(source != vocab.PAD_ID))
        order = slice(length - 1, None, -1) if config.reverse_source else slice(0, length)
        rows.append({
            "source": [source_words[i] for i in source[order]],
            "output": [output_words[i] for i in ids],
            "weights": sentence_weights[: len(ids), order],
        })
    return rows


def _through_eos(ids):
    """Token ids up to and including the first `<eos>` (all of them if none)."""
    return ids[: ids.index(vocab.EOS_ID) + 1] if vocab.EOS_ID in ids else ids


def write_alignments(rows, path):
    """Writes `attention_alignments` rows as JSON (weights as nested lists)."""
    with open(path, "w", encoding="utf-8") as f:
        rounded = [{**row, "weights": np.asarray(row["weights"]).round(6).tolist()} for row in rows]
        json.dump(rounded, f, indent=1)
        f.write("\n")


def attention_figure(rows):
    """One heat map per sentence: source words across, output words down, darker = more attention.

    Args:
        rows: `attention_alignments` rows.

    Returns:
        A matplotlib figure (write it with `save`).
    """
    heights = [max(len(row["output"]), 1) for row in rows]
    width = max(len(row["source"]) for row in rows)
    figure, axes = _pyplot().subplots(
        len(rows), 1, squeeze=False, gridspec_kw={"height_ratios": heights},
        figsize=(max(4.0, 0.45 * width + 2), 0.4 * sum(heights) + 1.2 * len(rows)),
    )
    for row, panel in zip(rows, axes[:, 0]):
        panel.imshow(np.asarray(row["weights"]).reshape(len(row["output"]), len(row["source"])),
                     cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
        panel.set_xticks(range(len(row["source"])), row["source"], rotation=60, ha="right", fontsize=8)
        panel.set_yticks(range(len(row["output"])), row["output"], fontsize=8)
        panel.set_xlabel("source")
        panel.set_ylabel("output")
    figure.tight_layout()
    return figure
