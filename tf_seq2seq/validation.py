"""Evaluation during training: perplexity and BLEU on the validation split.

Every `--eval_every_steps` steps the current weights translate the first
`--eval_sentences` distinct sources of `--eval_split` (beam
`--eval_beam_size`); perplexity is measured on the same pairs with teacher
forcing. Scalars and a few sample translations go to `MODEL_DIR/eval/`; the
best checkpoint by BLEU is kept in `MODEL_DIR/best/` with its scores in
`best/eval.json`, and a run can stop early when BLEU stops improving.
"""

import json
import os

import tensorflow as tf
from absl import logging

from tf_seq2seq import corpus
from tf_seq2seq import evaluation
from tf_seq2seq import model as model_lib
from tf_seq2seq import serving

SAMPLES = 3


class Validation:
    """Periodic evaluation of a model being trained."""

    def __init__(self, config, model_dir, seq2seq, source_tokenizer, target_tokenizer):
        """Reads the validation data and prepares the translator and writers.

        Args:
            config: the run's `config.Config`.
            model_dir: the model directory.
            seq2seq: the `model.Seq2Seq` being trained (its weights are evaluated).
            source_tokenizer: source `tokenizer.WordTokenizer`.
            target_tokenizer: target `tokenizer.WordTokenizer`.
        """
        self._config = config
        sources, references = evaluation.read_references(config, config.eval_split)
        self._sources = sources[: config.eval_sentences]
        self._references = references[: config.eval_sentences]
        pairs = corpus.load(
            config.dataset, config.eval_split, config.source_lang, config.target_lang, config.data_dir
        ).take(config.eval_sentences)
        self.perplexity = evaluation.Perplexity(
            seq2seq.training_model, source_tokenizer, target_tokenizer, config, pairs
        )
        self._translator = serving.Translator(
            seq2seq, source_tokenizer, target_tokenizer, config.replace(beam_size=config.eval_beam_size)
        )
        self._writer = tf.summary.create_file_writer(os.path.join(model_dir, "eval"))
        self._best_dir = os.path.join(model_dir, model_lib.BEST_DIR)
        self._best = tf.train.CheckpointManager(
            tf.train.Checkpoint(model=seq2seq.training_model), self._best_dir, max_to_keep=1,
            checkpoint_name="ckpt",
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
        nbest = serving.translate_texts(
            self._translator.beam_search, self._sources, self._config.eval_beam_size, 1, 64
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


def _samples_markdown(sources, references, hypotheses):
    """A Markdown table of the first `SAMPLES` source / reference / hypothesis triples."""
    rows = ["| source | reference | hypothesis |", "|---|---|---|"]
    for source, refs, hypothesis in list(zip(sources, references, hypotheses))[:SAMPLES]:
        rows.append(f"| {source} | {refs[0]} | {hypothesis} |")
    return "\n".join(rows)
