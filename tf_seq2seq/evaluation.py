"""Scores translations with sacrebleu (BLEU, chrF) on detokenized text.

`evaluate` translates a corpus split with a model directory's latest
checkpoint and writes `MODEL_DIR/eval_SPLIT.json` (keys `bleu`, `chrf`,
`sacrebleu_signature`, `num_sentences` (distinct sources), `beam_size`, plus
`num_references`, `split` and `checkpoint`) and the hypotheses, one per
distinct source, as `MODEL_DIR/eval_SPLIT.hyp`.
"""

import json
import os

import sacrebleu
from absl import logging

from tf_seq2seq import corpus
from tf_seq2seq import serving


def score(hypotheses, references):
    """Corpus BLEU (13a tokenization, cased) and chrF.

    Args:
        hypotheses: list of detokenized translations (str).
        references: list, aligned with `hypotheses`, of lists of one or more
            reference translations (str).

    Returns:
        A dict with `bleu`, `chrf` (floats) and `sacrebleu_signature` (str).
    """
    width = max(len(refs) for refs in references)
    # sacrebleu takes one stream per reference position; None marks "no more".
    streams = [[refs[i] if i < len(refs) else None for refs in references] for i in range(width)]
    bleu = sacrebleu.metrics.BLEU()
    chrf = sacrebleu.metrics.CHRF()
    bleu_score = bleu.corpus_score(hypotheses, streams)
    chrf_score = chrf.corpus_score(hypotheses, streams)
    return {
        "bleu": bleu_score.score,
        "chrf": chrf_score.score,
        "sacrebleu_signature": str(bleu.get_signature()),
    }


def read_references(config, split):
    """The distinct sources of a corpus split with all their references.

    A source that occurs several times (Tatoeba lists several French
    translations of one English sentence) is translated once and scored
    against all its targets, as multiple references.

    Returns:
        `(sources, references)`: a list of str in first-occurrence order and
        an aligned list of lists of str.
    """
    pairs = corpus.load(config.dataset, split, config.source_lang, config.target_lang, config.data_dir)
    references = {}
    for pair in pairs.as_numpy_iterator():
        source = pair["source"].decode("utf-8")
        references.setdefault(source, []).append(pair["target"].decode("utf-8"))
    return list(references), list(references.values())


def evaluate(config, model_dir, split, batch_size=64):
    """Translates a split with the latest checkpoint and scores it.

    Args:
        config: the model's `config.Config`; `beam_size` sets the beam.
        model_dir: the model directory; results are written there.
        split: corpus split name.
        batch_size: sentences per translation call.

    Returns:
        The results dict also written to `MODEL_DIR/eval_SPLIT.json`.
    """
    translator, checkpoint = serving.translator_from_model_dir(config, model_dir)
    sources, references = read_references(config, split)
    logging.info("Translating %d sentences of %r with beam %d", len(sources), split, config.beam_size)
    nbest = serving.translate_texts(translator.beam_search, sources, config.beam_size, 1, batch_size)
    hypotheses = [hypotheses[0][0] for hypotheses in nbest]
    results = {
        **score(hypotheses, references),
        "num_sentences": len(sources),
        "num_references": sum(len(refs) for refs in references),
        "beam_size": config.beam_size,
        "split": split,
        "checkpoint": os.path.basename(checkpoint),
    }
    prefix = os.path.join(model_dir, f"eval_{split}")
    with open(prefix + ".json", "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(prefix + ".hyp", "w", encoding="utf-8") as f:
        f.writelines(h + "\n" for h in hypotheses)
    return results
