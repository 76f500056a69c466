"""Scores translations with sacrebleu (BLEU, chrF) on detokenized text.

`evaluate` translates distinct source sentences with a model (a model
directory's latest checkpoint or an exported SavedModel) and writes
`PREFIX.json` (keys `bleu`, `chrf`, `sacrebleu_signature`, `num_sentences`
(distinct sources), `beam_size`, `num_references`, and details such as
`split`) and the hypotheses, one per distinct source, as `PREFIX.hyp`.
"""

import collections
import json
import math
import os

import sacrebleu
import tensorflow as tf
from absl import logging

from tf_seq2seq import corpus
from tf_seq2seq import inference
from tf_seq2seq import losses
from tf_seq2seq import pipeline
from tf_seq2seq.errors import Seq2SeqError

# Sentences per batch when evaluation translates or measures perplexity.
BATCH_SIZE = 64


def reference_streams(references):
    """sacrebleu's layout of a variable number of references per sentence.

    Args:
        references: list of lists of reference strings, one list per sentence.

    Returns:
        One list per reference position, aligned with the sentences; `None`
        where a sentence has fewer references.
    """
    width = max(len(refs) for refs in references)
    return [[refs[i] if i < len(refs) else None for refs in references] for i in range(width)]


def score(hypotheses, references):
    """Corpus BLEU (13a tokenization, cased) and chrF.

    Args:
        hypotheses: list of detokenized translations (str).
        references: list, aligned with `hypotheses`, of lists of one or more
            reference translations (str).

    Returns:
        A dict with `bleu`, `chrf` (floats) and `sacrebleu_signature` (str).
    """
    streams = reference_streams(references)
    bleu = sacrebleu.metrics.BLEU()
    chrf = sacrebleu.metrics.CHRF()
    bleu_score = bleu.corpus_score(hypotheses, streams)
    chrf_score = chrf.corpus_score(hypotheses, streams)
    return {
        "bleu": bleu_score.score,
        "chrf": chrf_score.score,
        "sacrebleu_signature": str(bleu.get_signature()),
    }


class Perplexity:
    """Teacher-forced perplexity of a model's current weights on sentence pairs.

    Pairs outside the training length limits (`pipeline.length_limits`) are left out.
    """

    def __init__(self, training_model, source_tokenizer, target_tokenizer, config, pairs):
        """Args:
            training_model: `model.Seq2Seq.training_model`.
            source_tokenizer: source `tokenizer` module.
            target_tokenizer: target `tokenizer` module.
            config: the model's `config.Config`.
            pairs: `tf.data.Dataset` of `{"source": string [], "target": string []}`.
        """
        limits = pipeline.length_limits(config)
        self._batches = (
            pairs.apply(pipeline.tokenize(source_tokenizer, target_tokenizer, config.reverse_source, limits))
            .apply(pipeline.bucket_by_length(BATCH_SIZE, max(limits) + 1))
        )
        self._loss = tf.function(
            lambda features, labels: losses.masked_loss_sum(
                labels, training_model(features, training=False)
            ),
            reduce_retracing=True,  # One trace for every bucket shape.
        )

    def __call__(self):
        """The perplexity (float): exp of the mean token cross-entropy."""
        loss_sum = tokens = 0.0
        for features, labels in self._batches:
            batch_loss, batch_tokens = self._loss(features, labels)
            loss_sum += float(batch_loss)
            tokens += float(batch_tokens)
        return math.exp(min(loss_sum / max(tokens, 1.0), 50.0))


def group_references(pairs):
    """Groups `(source, target)` str pairs by source, in first-occurrence order.

    A source that occurs several times (Tatoeba lists several French
    translations of one English sentence) is translated once and scored
    against all its targets, as multiple references.

    Returns:
        `(sources, references)`: a list of str and an aligned list of lists of str.
    """
    references = {}
    for source, target in pairs:
        references.setdefault(source, []).append(target)
    return list(references), list(references.values())


def read_references(config, split):
    """The distinct sources of a corpus split with all their references (`group_references`)."""
    pairs = corpus.load_split(config, split)
    return group_references(
        (p["source"].decode("utf-8"), p["target"].decode("utf-8")) for p in pairs.as_numpy_iterator()
    )


EvalSet = collections.namedtuple("EvalSet", ["sources", "references", "pairs"])
EvalSet.__doc__ = """Sentences to evaluate on, from one read of their corpus.

Attributes:
    sources: list of distinct source sentences (str), translated for BLEU.
    references: aligned list of lists of their references (str).
    pairs: `tf.data.Dataset` of every `{"source", "target"}` string pair of
        `sources` and `references` (`reference_pairs`), for perplexity: the
        same pairs BLEU is scored on.
"""


def read_eval_set(config, split):
    """The `EvalSet` of a corpus split (`read_references`)."""
    return eval_set(*read_references(config, split))


def eval_set(sources, references):
    """The `EvalSet` of distinct sources and their grouped references."""
    return EvalSet(sources, references, reference_pairs(sources, references))


def reference_pairs(sources, references):
    """Every `(source, reference)` pair as a dataset of `{"source", "target"}` strings."""
    pairs = [(source, reference) for source, refs in zip(sources, references) for reference in refs]
    return tf.data.Dataset.from_tensor_slices({
        "source": tf.constant([source for source, _ in pairs], dtype=tf.string),
        "target": tf.constant([target for _, target in pairs], dtype=tf.string),
    })


def read_file_references(source_file, reference_file):
    """Like `read_references`, from two aligned text files (optionally `.gz`).

    Raises:
        Seq2SeqError: missing files or different line counts.
    """
    for path in (source_file, reference_file):
        if not os.path.isfile(path):
            raise Seq2SeqError(f"file not found: {path}")
    sources, references = corpus.read_lines(source_file), corpus.read_lines(reference_file)
    if len(sources) != len(references):
        raise Seq2SeqError(
            f"{source_file} has {len(sources)} lines but {reference_file} has {len(references)}"
        )
    return group_references(zip(sources, references))


def evaluate(beam_search, sources, references, beam_size, output_prefix, batch_size=BATCH_SIZE,
             num_hypotheses=1, **details):
    """Translates `sources`, scores them, and writes `PREFIX.json` and `PREFIX.hyp`.

    BLEU and chrF score the best translation; with `num_hypotheses` > 1 the
    n-best lists also go to `PREFIX.nbest` (`inference.nbest_lines`).

    Args:
        beam_search: `translator.Translator.beam_search` or a loaded SavedModel's
            `signatures["beam_search"]`.
        sources: list of distinct source sentences (str).
        references: aligned list of lists of references (str).
        beam_size: beam size.
        output_prefix: path prefix of the results files.
        batch_size: sentences per translation call.
        num_hypotheses: translations per sentence written to `PREFIX.nbest`.
        **details: extra JSON fields (e.g. `split`, `checkpoint`).

    Returns:
        The results dict written to `PREFIX.json`: `bleu`, `chrf`,
        `sacrebleu_signature`, `num_sentences`, `num_references`, `beam_size`
        and `details`.
    """
    logging.info("Translating %d sentences with beam %d", len(sources), beam_size)
    nbest = inference.translate_texts(beam_search, sources, beam_size, num_hypotheses, batch_size)
    hypotheses = [hypotheses[0][0] for hypotheses in nbest]
    results = {
        **score(hypotheses, references),
        "num_sentences": len(sources),
        "num_references": sum(len(refs) for refs in references),
        "beam_size": beam_size,
        **details,
    }
    os.makedirs(os.path.dirname(output_prefix) or ".", exist_ok=True)
    with open(output_prefix + ".json", "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(output_prefix + ".hyp", "w", encoding="utf-8") as f:
        f.writelines(h + "\n" for h in hypotheses)
    if num_hypotheses > 1:
        with open(output_prefix + ".nbest", "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in inference.nbest_lines(nbest))
    return results
