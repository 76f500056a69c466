"""The paper's model against attention, on Multi30k En->Fr at the same budget (docs/paper.md table).

    .venv/bin/python bench/attention.py [--steps=1000] [--root=/tmp/attention_bench]
        [--kinds=none,luong,bahdanau] [--dataset=files:DIR]

Trains one 2 x 256 model per `--attention` kind with identical settings (batch
64, Adam 1e-3, clip 5, seed 1234, vocabularies 10k/12k, float32), then
translates Multi30k test2016 with beam 5 and prints a Markdown table: BLEU and
chrF, training target tokens per second (steady wall-clock rate) and per
CPU-second of the process, each relative to `none`. Each kind's figures are
kept in ROOT/KIND/bench.json, and a kind that has them is not trained again:
several processes (one `--kinds=KIND` each) can train the kinds side by side,
and a last run prints the table of all.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import logging  # noqa: E402

from tf_seq2seq import config as config_lib  # noqa: E402
from tf_seq2seq import evaluation  # noqa: E402
from tf_seq2seq import loading
from tf_seq2seq import training  # noqa: E402

MULTI30K = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "multi30k_en_fr")
BEAM_SIZE = 5
RESULTS = "bench.json"


def bench_config(dataset, steps, attention):
    """The Multi30k recipe at 2 x 256 for `steps` steps, with `attention`."""
    return config_lib.Config(
        dataset=dataset, train_split="train", eval_split="val", test_split="test2016",
        source_vocab_size=10000, target_vocab_size=12000, max_source_length=50,
        max_target_length=60, num_layers=2, units=256, embedding_dim=256, attention=attention,
        optimizer="adam", learning_rate=0.001, clip_norm=5.0, batch_size=64, epochs=100,
        train_steps=steps, checkpoint_every_steps=250, log_every_steps=100, beam_size=BEAM_SIZE,
    )


def train_and_score(config, model_dir):
    """Trains, then scores test2016; returns the figures as a dict."""
    start = time.process_time()
    result = training.train(config, model_dir)
    cpu_seconds = time.process_time() - start
    translator, _ = loading.from_model_dir(config, model_dir)
    sources, references = evaluation.read_references(config, config.test_split)
    scores = evaluation.evaluate(
        translator.beam_search, sources, references, BEAM_SIZE,
        os.path.join(model_dir, f"eval_{config.test_split}"),
    )
    return {
        "steps": result["step"],
        "bleu": scores["bleu"],
        "chrf": scores["chrf"],
        "target_tokens_per_sec": result["throughput"]["target_tokens_per_sec"],
        "target_tokens_per_cpu_sec": result["target_tokens"] / cpu_seconds,
    }


def figures(args, kind):
    """The kind's figures from ROOT/KIND/bench.json, training and scoring first if missing."""
    model_dir = os.path.join(args.root, kind)
    path = os.path.join(model_dir, RESULTS)
    if not os.path.exists(path):
        results = train_and_score(bench_config(args.dataset, args.steps, kind), model_dir)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--root", default="/tmp/attention_bench")
    parser.add_argument("--kinds", default="none,luong,bahdanau")
    parser.add_argument("--dataset", default=f"files:{MULTI30K}")
    args = parser.parse_args()
    logging.set_verbosity(logging.WARNING)
    rows = {kind: figures(args, kind) for kind in args.kinds.split(",")}
    base = rows.get("none")
    print("| --attention | steps | test2016 BLEU | chrF | target tok/s | vs none "
          "| target tok/CPU-s | vs none |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, row in rows.items():
        ratios = [f"{row[k] / base[k]:.2f}x" if base else "-"
                  for k in ("target_tokens_per_sec", "target_tokens_per_cpu_sec")]
        print(f"| {kind} | {row['steps']} | {row['bleu']:.2f} | {row['chrf']:.2f} | "
              f"{row['target_tokens_per_sec']:.0f} | {ratios[0]} | "
              f"{row['target_tokens_per_cpu_sec']:.0f} | {ratios[1]} |")


if __name__ == "__main__":
    main()
