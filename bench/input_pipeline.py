"""Input pipeline speed: target tokens per CPU-second, and the cores that feed N GPUs.

    .venv/bin/python bench/input_pipeline.py [--flagfile=pipelines/multi30k_en_fr.flags]
        [--gpus=8] [--gpu_target_tokens_per_sec=207000] [--compare_training]

Reads the recipe (default: Multi30k En->Fr from ../shared/data; any training flag
can be overridden, e.g. `--flagfile=pipelines/wmt14_en_fr_paper.flags
--dataset=files:DIR`), builds its vocabularies, then runs the `tf.data` training
pipeline alone (corpus -> tokenize -> reverse -> filter -> bucket -> batch, no
model) and prints its throughput per CPU-second (all threads, `getrusage`) and per
wall second, the share of padded positions in its batches, and the cores needed
to feed `--gpus` accelerators that each train at `--gpu_target_tokens_per_sec` (default: the paper's 4 x 1000 model on one H200
in bf16 at batch 128, measured with PyTorch's cuDNN LSTMs). With
`--compare_training` it also trains the recipe's model for a few steps on this
machine and prints the ratio pipeline / training.
"""

import os
import resource
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags as absl_flags  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import logging  # noqa: E402

from tf_seq2seq import corpus, flags, pipeline, tokenizer, training  # noqa: E402
from tf_seq2seq import model_dir as model_dir_lib  # noqa: E402

RECIPE = os.path.join(os.path.dirname(__file__), "..", "pipelines", "multi30k_en_fr.flags")
DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "multi30k_en_fr")

absl_flags.DEFINE_integer("gpus", 8, "Accelerators to feed.")
absl_flags.DEFINE_float("gpu_target_tokens_per_sec", 207_000,
                        "Target tokens per second that one accelerator trains.")
absl_flags.DEFINE_integer("bench_batches", 400, "Batches timed.")
absl_flags.DEFINE_bool("compare_training", False,
                       "Also train the recipe's model for 11 steps here and compare.")


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pipeline_rates(config, model_dir, batches):
    """Throughput of `batches` batches of the training pipeline after a warm-up batch.

    Returns:
        A dict of `target_per_cpu_sec` and `target_per_sec` (non-padding target
        tokens, `<eos>` included), `source_target_per_sec`, and `padded_share`:
        the share of the batches' source+target positions that are padding.
    """
    source, target = tokenizer.from_model_dir(model_dir, config.tokenizer)
    pairs = corpus.training_pairs(config)
    dataset = pipeline.training_batches(pairs, source, target, config.replace(epochs=100))
    iterator = iter(dataset)
    next(iterator)  # Warm-up: traces the tokenizer and fills the shuffle buffer.
    source_tokens = target_tokens = positions = 0
    start, cpu = time.perf_counter(), cpu_seconds()
    for _ in range(batches):
        features, labels = next(iterator)
        source_tokens += int((features["source"] != 0).numpy().sum())
        target_tokens += int((labels != 0).numpy().sum())
        positions += int(tf.size(features["source"]) + tf.size(labels))
    cpu, seconds = cpu_seconds() - cpu, time.perf_counter() - start
    return {
        "target_per_cpu_sec": target_tokens / cpu,
        "target_per_sec": target_tokens / seconds,
        "source_target_per_sec": (source_tokens + target_tokens) / seconds,
        "padded_share": 1 - (source_tokens + target_tokens) / positions,
    }


def main():
    argv = [sys.argv[0], f"--flagfile={RECIPE}", f"--dataset=files:{DATA}", *sys.argv[1:]]
    flags.FLAGS(argv)
    logging.set_verbosity(logging.WARNING)
    config = flags.config_from_flags()
    bench = absl_flags.FLAGS
    with tempfile.TemporaryDirectory() as model_dir:
        model_dir_lib.prepare_model_dir(config, model_dir, corpus.training_pairs(config))
        rates = pipeline_rates(config, model_dir, bench.bench_batches)
        if bench.compare_training:
            result = training.train(
                config.replace(train_steps=11, log_every_steps=10**9, checkpoint_every_steps=10**9),
                model_dir,
            )
    print(f"recipe: {config.dataset}, batch {config.batch_size}, shuffle buffer "
          f"{config.shuffle_buffer}, vocab {config.source_vocab_size}/{config.target_vocab_size}")
    print(f"input pipeline alone: {rates['target_per_cpu_sec']:,.0f} target tokens per CPU-second "
          f"({rates['target_per_sec']:,.0f} target, {rates['source_target_per_sec']:,.0f} "
          f"source+target tokens per wall second)")
    print(f"padding: {rates['padded_share']:.1%} of the source+target positions of a step")
    needed = bench.gpus * bench.gpu_target_tokens_per_sec / rates["target_per_cpu_sec"]
    print(f"to feed {bench.gpus} GPUs at {bench.gpu_target_tokens_per_sec:,.0f} target tokens/s "
          f"each: {needed:.1f} cores of input")
    if bench.compare_training:
        training_rate = result["throughput"]["source_target_tokens_per_sec"]
        print(f"training here consumes: {training_rate:,.0f} source+target tokens/s "
              f"(pipeline / training: {rates['source_target_per_sec'] / training_rate:.1f}x)")


if __name__ == "__main__":
    main()
