"""Evaluation during training: perplexity and BLEU on the validation split.

Every `--eval_every_steps` steps the current weights translate
`--eval_sentences` distinct sources of `--eval_split` sampled evenly over the
split (`sample_evenly`: the same sentences in every run, whatever its seed, so
runs compare by BLEU; the bundled val split is sorted by length, so its first
sentences would all be short), with beam `--eval_beam_size`; perplexity is
measured on the same sentences and all their references, with teacher
forcing. Scalars (`bleu`, `chrf`, `perplexity` and `loss`, its log) and a few
sample translations go to `MODEL_DIR/eval/`; the best checkpoint by BLEU is
kept in `MODEL_DIR/best/` with its scores in `best/eval.json`, and a run can
stop early when BLEU stops improving.
"""

import json
import math
import os

import numpy as np
import tensorflow as tf
from absl import logging

from tf_seq2seq import checkpoints
from tf_seq2seq import dashboards
from tf_seq2seq import evaluation
from tf_seq2seq import inference
from tf_seq2seq import translator as translator_lib

SAMPLES = 3
# Seeds the choice of evaluation sentences; not `--seed`, so runs with different
# seeds are scored on the same sentences.
SAMPLE_SEED = 0


class Validation:
    """Periodic evaluation of a model being trained."""

    def __init__(self, config, model_dir, seq2seq, source_tokenizer, target_tokenizer):
        """Reads the validation data and prepares the translator and writers.

        Args:
            config: the run's `config.Config`.
            model_dir: the model directory.
            seq2seq: the `model.Seq2Seq` being trained (its weights are evaluated).
            source_tokenizer: the source tokenizer (`tokenizer.from_model_dir`).
            target_tokenizer: the target tokenizer.
        """
        self._config = config
        sources, references = evaluation.read_references(config, config.eval_split)
        chosen = sample_evenly(len(sources), config.eval_sentences)
        self._eval_set = evaluation.eval_set([sources[i] for i in chosen], [references[i] for i in chosen])
        self._sources, self._references = self._eval_set.sources, self._eval_set.references
        self.perplexity = evaluation.Perplexity(
            seq2seq.training_model, source_tokenizer, target_tokenizer, config, self._eval_set.pairs
        )
        self._translator = translator_lib.Translator(
            seq2seq, source_tokenizer, target_tokenizer, config.replace(beam_size=config.eval_beam_size)
        )
        self._writer = tf.summary.create_file_writer(os.path.join(model_dir, dashboards.EVAL))
        self._best_dir = os.path.join(model_dir, checkpoints.BEST_DIR)
        self._best = checkpoints.manager(
            tf.train.Checkpoint(model=seq2seq.training_model), self._best_dir, keep=1
        )
        self.best_bleu = self._read_best_bleu()
        self._evaluations_since_best = 0

    def _read_best_bleu(self):
        path = os.path.join(self._best_dir, "eval.json")
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            return json.load(f)["bleu"]

    def run(self, step):
        """Evaluates, writes summaries, keeps the best checkpoint; returns the scores dict."""
        nbest = inference.translate_texts(
            self._translator.beam_search, self._sources, self._config.eval_beam_size, 1,
            evaluation.BATCH_SIZE,
        )
        hypotheses = [hypotheses[0][0] for hypotheses in nbest]
        results = {
            **evaluation.score(hypotheses, self._references),
            "perplexity": self.perplexity(),
            "step": step,
            "num_sentences": len(self._sources),
            "beam_size": self._config.eval_beam_size,
        }
        logging.info(
            "eval step %d: BLEU %.2f  chrF %.2f  perplexity %.2f",
            step, results["bleu"], results["chrf"], results["perplexity"],
        )
        with self._writer.as_default(step=step):
            for name in ("bleu", "chrf", "perplexity"):
                tf.summary.scalar(name, results[name])
            # The mean token cross-entropy, drawn with the training loss.
            tf.summary.scalar("loss", math.log(results["perplexity"]))
            tf.summary.text("samples", _samples_markdown(self._sources, self._references, hypotheses))
        self._writer.flush()
        if self.best_bleu is None or results["bleu"] > self.best_bleu:
            self._keep_best(step, results)
        else:
            self._evaluations_since_best += 1
        return results

    def _keep_best(self, step, results):
        self.best_bleu = results["bleu"]
        self._evaluations_since_best = 0
        self._best.save(checkpoint_number=step)
        with open(os.path.join(self._best_dir, "eval.json"), "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2, sort_keys=True)
        logging.info("New best BLEU %.2f: saved %s", results["bleu"], self._best.latest_checkpoint)

    def should_stop(self, patience):
        """Whether `patience` (> 0) evaluations in a row brought no better BLEU."""
        return patience > 0 and self._evaluations_since_best >= patience


def sample_evenly(total, count, seed=SAMPLE_SEED):
    """Indices of `count` of `total` items spread over the whole range.

    The range is cut into `count` consecutive strata of (nearly) equal size
    and one index is drawn at random from each, so a list sorted by length
    yields short and long items alike.

    Args:
        total: number of items.
        count: number of indices wanted (>= 1).
        seed: seeds the draw within each stratum.

    Returns:
        A sorted list of `min(count, total)` distinct ints in `[0, total)`.
    """
    if count >= total:
        return list(range(total))
    edges = np.arange(count + 1) * total // count
    offsets = np.random.default_rng(seed).integers(0, edges[1:] - edges[:-1])
    return (edges[:-1] + offsets).tolist()


def _samples_markdown(sources, references, hypotheses):
    """A Markdown table of the first `SAMPLES` source / reference / hypothesis triples."""
    rows = ["| source | reference | hypothesis |", "|---|---|---|"]
    for source, refs, hypothesis in list(zip(sources, references, hypotheses))[:SAMPLES]:
        rows.append(f"| {source} | {refs[0]} | {hypothesis} |")
    return "\n".join(rows)
