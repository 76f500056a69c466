"""Scores translations with sacrebleu (BLEU, chrF) on detokenized text.

`evaluate` translates a corpus split with a model directory's latest
checkpoint and writes `MODEL_DIR/eval_SPLIT.json` (keys `bleu`, `chrf`,
`sacrebleu_signature`, `num_sentences`, `beam_size`, plus `split` and
`checkpoint`) and the hypotheses as `MODEL_DIR/eval_SPLIT.hyp`.
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
        references: list of reference translations (str), aligned.

    Returns:
        A dict with `bleu`, `chrf` (floats) and `sacrebleu_signature` (str).
    """
    bleu = sacrebleu.metrics.BLEU()
    chrf = sacrebleu.metrics.CHRF()
    bleu_score = bleu.corpus_score(hypotheses, [references])
    chrf_score = chrf.corpus_score(hypotheses, [references])
    return {
        "bleu": bleu_score.score,
        "chrf": chrf_score.score,
        "sacrebleu_signature": str(bleu.get_signature()),
    }


def read_pairs(config, split):
    """The `(sources, references)` of a corpus split as two lists of str."""
    pairs = corpus.load(config.dataset, split, config.source_lang, config.target_lang, config.data_dir)
    sources, references = [], []
    for pair in pairs.as_numpy_iterator():
        sources.append(pair["source"].decode("utf-8"))
        references.append(pair["target"].decode("utf-8"))
    return sources, references


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
    sources, references = read_pairs(config, split)
    logging.info("Translating %d sentences of %r with beam %d", len(sources), split, config.beam_size)
    nbest = serving.translate_texts(translator.beam_search, sources, config.beam_size, 1, batch_size)
    hypotheses = [hypotheses[0][0] for hypotheses in nbest]
    results = {
        **score(hypotheses, references),
        "num_sentences": len(sources),
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
