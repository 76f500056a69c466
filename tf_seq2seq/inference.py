"""Translating lists of sentences in batches with a `beam_search` function, and n-best output.

Works alike with an in-process `translator.Translator.beam_search` and with a
loaded SavedModel's `signatures["beam_search"]`.
"""

import sys

import tensorflow as tf
import tqdm

from tf_seq2seq.errors import Seq2SeqError


def translate_batches(translate_fn, sentences, batch_size):
    """Runs `translate_fn` over `sentences` in batches with a progress bar on stderr.

    Each batch holds sentences of similar length (in words): a batch decodes
    until its longest output ends, so mixing lengths wastes steps on finished
    sentences. The results come back in the input order. The bar shows only
    when stderr is a terminal, so logs and pipes stay clean.

    Args:
        translate_fn: function from a list of str to a sequence of results.
        sentences: list of str.
        batch_size: sentences per call.

    Returns:
        The results, one per sentence, in the order of `sentences`.
    """
    by_length = sorted(range(len(sentences)), key=lambda i: len(sentences[i].split()))
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

    try:
        return translate_batches(translate, sentences, batch_size)
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
