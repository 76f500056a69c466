"""Input pipeline speed against what training consumes (is training ever input-bound?).

    .venv/bin/python bench/input_pipeline.py [--flagfile=pipelines/multi30k_en_fr.flags]

Reads the recipe (default: Multi30k En->Fr from ../shared/data), then prints
source+target tokens/s of the tf.data pipeline alone (corpus -> tokenize ->
reverse -> filter -> bucket -> batch, no model), the share of padded positions
in its batches, the same rate of a short training run of the recipe's model, and
their ratio.
"""

import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
from absl import logging  # noqa: E402

from tf_seq2seq import corpus, flags, pipeline, tokenizer, training  # noqa: E402

RECIPE = os.path.join(os.path.dirname(__file__), "..", "pipelines", "multi30k_en_fr.flags")
DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "multi30k_en_fr")


def pipeline_tokens_per_sec(config, model_dir, batches):
    """Source+target (non-padding) tokens/s of `batches` batches of the training pipeline.

    Returns:
        `(tokens_per_sec, padded_share)`: the rate, and the share of the
        batches' source+target positions that are padding.
    """
    source, target = tokenizer.from_model_dir(model_dir, config.tokenizer)
    pairs = corpus.load(config.dataset, config.train_split, config.source_lang, config.target_lang)
    dataset = pipeline.training_batches(pairs, source, target, config.replace(epochs=100))
    iterator = iter(dataset)
    next(iterator)  # Warm-up: traces the tokenizer and fills the shuffle buffer.
    tokens, positions, start = 0, 0, time.perf_counter()
    for _ in range(batches):
        features, labels = next(iterator)
        tokens += int((features["source"] != 0).numpy().sum() + (labels != 0).numpy().sum())
        positions += int(tf.size(features["source"]) + tf.size(labels))
    return tokens / (time.perf_counter() - start), 1 - tokens / positions


def main():
    argv = [sys.argv[0], f"--flagfile={RECIPE}", f"--dataset=files:{DATA}", *sys.argv[1:]]
    flags.FLAGS(argv)
    logging.set_verbosity(logging.WARNING)
    config = flags.config_from_flags()
    with tempfile.TemporaryDirectory() as model_dir:
        training.prepare_model_dir(config, model_dir)
        pipeline_rate, padded_share = pipeline_tokens_per_sec(config, model_dir, batches=400)
        result = training.train(
            config.replace(train_steps=11, log_every_steps=10**9, checkpoint_every_steps=10**9),
            model_dir,
        )
    training_rate = result["throughput"]["source_target_tokens_per_sec"]
    print(f"recipe: {config.dataset}, {config.num_layers}x{config.units}, batch {config.batch_size}")
    print(f"input pipeline alone: {pipeline_rate:,.0f} source+target tokens/s")
    print(f"padding:              {padded_share:.1%} of the source+target positions of a step")
    print(f"training consumes:    {training_rate:,.0f} source+target tokens/s")
    print(f"pipeline / training:  {pipeline_rate / training_rate:.1f}x")


if __name__ == "__main__":
    main()
