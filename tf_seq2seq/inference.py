"""Translating and scoring lists of sentences in batches through a model's functions, and n-best output.

Works alike with an in-process `translator.Translator.beam_search` (`score_signature`)
and with a loaded SavedModel's `signatures["beam_search"]` (`["score"]`).
"""

import sys

import tensorflow as tf
import tqdm

from tf_seq2seq.errors import Seq2SeqError


def translate_batches(translate_fn, sentences, batch_size, length=lambda sentence: len(sentence.split())):
    """Runs `translate_fn` over `sentences` in batches with a progress bar on stderr.

    Each batch holds sentences of similar length (in words): a batch decodes
    until its longest output ends, so mixing lengths wastes steps on finished
    sentences. The results come back in the input order. The bar shows only
    when stderr is a terminal, so logs and pipes stay clean.

    Args:
        translate_fn: function from a list of str to a sequence of results.
        sentences: list of str.
        batch_size: sentences per call.
        length: the length of an item of `sentences` that batches group by
            (default: its words).

    Returns:
        The results, one per sentence, in the order of `sentences`.
    """
    by_length = sorted(range(len(sentences)), key=lambda i: length(sentences[i]))
    results = [None] * len(sentences)
    with tqdm.tqdm(total=len(sentences), unit="sent", disable=None, file=sys.stderr) as bar:
        for start in range(0, len(sentences), batch_size):
            batch = by_length[start : start + batch_size]
            for index, result in zip(batch, translate_fn([sentences[i] for i in batch])):
                results[index] = result
            bar.update(len(batch))
    return results


def translate_texts(beam_search_fn, sentences, beam_size, num_hypotheses, batch_size):
    """Translates a list of sentences with a `beam_search` function or signature.

    Args:
        beam_search_fn: `Translator.beam_search` or a loaded SavedModel's
            `signatures["beam_search"]`.
        sentences: list of str.
        beam_size: beam size.
        num_hypotheses: translations per sentence, <= beam_size.
        batch_size: sentences per call.

    Returns:
        One list per sentence of `num_hypotheses` `(translation, score)` pairs,
        best first.

    Raises:
        Seq2SeqError: if the model rejects the request (e.g. num_hypotheses > beam).
    """

    def translate(batch):
        outputs = beam_search_fn(
            sentences=tf.constant(batch, tf.string),
            beam_size=tf.constant(beam_size, tf.int32),
            num_hypotheses=tf.constant(num_hypotheses, tf.int32),
        )
        texts, scores = outputs["translations"].numpy(), outputs["scores"].numpy()
        return [
            [(t.decode("utf-8"), float(s)) for t, s in zip(row_texts, row_scores)]
            for row_texts, row_scores in zip(texts, scores)
        ]

    return _rejections_as_errors(translate_batches, translate, sentences, batch_size)


def score_texts(score_fn, sentences, translations, batch_size):
    """Scores translations with a `score` function or signature (teacher forcing).

    Args:
        score_fn: `Translator.score_signature` or a loaded SavedModel's `signatures["score"]`.
        sentences: list of str.
        translations: list of str, one per sentence.
        batch_size: pairs per call (grouped by translation length).

    Returns:
        One `(normalized_score, log_prob, length)` per pair: floats and the
        int number of tokens scored (`<eos>` included).

    Raises:
        Seq2SeqError: if the model rejects the request.
    """

    def score(pairs):
        outputs = score_fn(
            sentences=tf.constant([s for s, _ in pairs], tf.string),
            translations=tf.constant([t for _, t in pairs], tf.string),
        )
        columns = (outputs[name].numpy().tolist() for name in ("normalized_scores", "log_probs", "lengths"))
        return list(zip(*columns))

    pairs = list(zip(sentences, translations, strict=True))
    by_translation = lambda pair: len(pair[1].split())  # noqa: E731
    return _rejections_as_errors(translate_batches, score, pairs, batch_size, by_translation)


def _rejections_as_errors(function, *args):
    """`function(*args)`, a request the model rejects (InvalidArgument) being a `Seq2SeqError`."""
    try:
        return function(*args)
    except tf.errors.InvalidArgumentError as e:
        raise Seq2SeqError(f"the model rejected the request: {e.message.splitlines()[0]}") from None


def nbest_lines(nbest):
    """n-best lists as TSV lines `INDEX<TAB>RANK<TAB>SCORE<TAB>TRANSLATION` (rank from 1).

    Args:
        nbest: one list per sentence of `(translation, score)` pairs, best
            first (`translate_texts`).

    Returns:
        A list of str, without newlines.
    """
    return [
        f"{index}\t{rank}\t{score:.4f}\t{text}"
        for index, hypotheses in enumerate(nbest)
        for rank, (text, score) in enumerate(hypotheses, start=1)
    ]
