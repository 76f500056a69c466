"""Vocabulary building at WMT'14 scale: CPU-seconds and peak memory before step 1.

    .venv/bin/python bench/vocab_build.py [--pairs=500000,2000000,8000000] [--kind=word]

Generates synthetic corpora in the `files:` layout (Multi30k En-Fr sentences, about
one word in eight replaced by a word drawn from a Zipf law over an unbounded
vocabulary, so the number of distinct words grows with the corpus like in real
text), then times `model_dir.prepare_model_dir` with the paper's recipe
(160k/80k words, lengths 80) on each in a fresh process: vocabularies plus the
count of pairs the length filter drops. Prints CPU-seconds, wall seconds and peak
RSS per size, and extrapolates the CPU-seconds linearly to 40.8M pairs (TFDS
`wmt14_translate/fr-en`) and to a 16-core machine: the per-batch tokenizing and
counting runs in parallel in `tf.data`; reading the corpus and merging the
batches' counts run on one thread each, so their measured CPU-seconds bound the
speed-up (Amdahl).
Corpora are cached under --cache_dir.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

MULTI30K = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "multi30k_en_fr")
RECIPE = os.path.join(os.path.dirname(__file__), "..", "pipelines", "wmt14_en_fr_paper.flags")
WMT14_PAIRS = 40_836_876
ZIPF_EXPONENT = 1.22  # ~0.8M distinct words per side at 8M pairs (issue 13's corpora).
REPLACE_PROBABILITY = 0.12

# Runs in a child process: builds the vocabularies of the recipe on a corpus, prints JSON
# with the CPU-seconds of the whole build and of its serial part (reading the corpus and
# merging the per-batch counts, both on one thread), measured on the first SERIAL_PAIRS.
CHILD = """
import json, resource, sys, tempfile, time
import tensorflow as tf
from tf_seq2seq import corpus, flags, model_dir as model_dir_lib, tokenizer, word_counts
flags.FLAGS([sys.argv[0], "--flagfile=" + sys.argv[1], "--dataset=files:" + sys.argv[2],
             "--tokenizer=" + sys.argv[3]])
config = flags.config_from_flags()
serial_pairs = int(sys.argv[4])
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
with tempfile.TemporaryDirectory() as model_dir:
    start, wall = cpu(), time.perf_counter()
    model_dir_lib.prepare_model_dir(config, model_dir, corpus.training_pairs(config))
    total, wall = cpu() - start, time.perf_counter() - wall
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
pairs = corpus.load(config.dataset, "train", "en", "fr").take(serial_pairs)
start = cpu()
pairs.batch(16384).reduce(tf.constant(0), lambda n, batch: n + 1)
read = cpu() - start
batches = word_counts.batch_counts(pairs, tokenizer.count_words, 80, 80).cache()
batches.reduce(tf.constant(0), lambda n, *batch: n + 1)
start = cpu()
word_counts.merge(batches)
merge = cpu() - start
pairs = int(corpus.load(config.dataset, "train", "en", "fr").cardinality())
share = min(1.0, serial_pairs / pairs)
print(json.dumps({"cpu": total, "wall": wall, "peak_rss_gb": peak,
                  "serial": (read + merge) / share}))
"""
SERIAL_PAIRS = 1_000_000


def synthetic_word(index, suffix):
    """A pronounceable-looking word for a Zipf rank: letters of `index` in base 20."""
    letters = "bcdfgklmnprstvzaeiou"
    word = ""
    while True:
        index, digit = divmod(index, len(letters))
        word += letters[digit]
        if index == 0:
            return "x" + word + suffix


def generate(directory, pairs, seed=0):
    """Writes `DIRECTORY/train.{en,fr}` with `pairs` synthetic pairs (see the module doc)."""
    templates = {lang: [line.split() for line in open(os.path.join(MULTI30K, f"train.{lang}"),
                                                      encoding="utf-8")] for lang in ("en", "fr")}
    rng = np.random.default_rng(seed)
    os.makedirs(directory, exist_ok=True)
    files = {lang: open(os.path.join(directory, f"train.{lang}.tmp"), "w", encoding="utf-8")
             for lang in ("en", "fr")}
    chunk = 100_000
    for start in range(0, pairs, chunk):
        count = min(chunk, pairs - start)
        rows = rng.integers(0, len(templates["en"]), count)
        uniforms = rng.random((count, 48))
        ranks = rng.zipf(ZIPF_EXPONENT, (count, 48))
        for lang, suffix in (("en", ""), ("fr", "e")):
            lines = []
            for row, u, r in zip(rows, uniforms, ranks):
                words = list(templates[lang][row])
                for i in np.flatnonzero(u[: len(words)] < REPLACE_PROBABILITY):
                    words[i] = synthetic_word(int(r[i]), suffix)
                lines.append(" ".join(words) + "\n")
            files[lang].writelines(lines)
    for lang, f in files.items():
        f.close()
        os.replace(os.path.join(directory, f"train.{lang}.tmp"), os.path.join(directory, f"train.{lang}"))


def corpus_dir(cache_dir, pairs):
    """The cached corpus of `pairs` pairs (generated on first use)."""
    directory = os.path.join(cache_dir, f"synthetic_{pairs}")
    if not os.path.exists(os.path.join(directory, "train.fr")):
        generate(directory, pairs)
    return directory


def measure(directory, kind, cores):
    """Runs `prepare_model_dir` on a corpus in a fresh process pinned to `cores` CPUs."""
    command = [sys.executable, "-c", CHILD, RECIPE, directory, kind, str(SERIAL_PAIRS)]
    if cores:
        command = ["taskset", "-c", cores] + command
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(output.strip().splitlines()[-1])


def corpus_size_parser(description):
    """The flags of the build benches: corpus sizes, pinning, the corpora's cache, cores to extrapolate to."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--pairs", default="500000,2000000,8000000", help="comma-separated corpus sizes")
    parser.add_argument("--cores", default="1", help="taskset CPU list ('' = no pinning)")
    parser.add_argument("--cache_dir", default="/tmp/tf_seq2seq_vocab_bench")
    parser.add_argument("--target_cores", type=int, default=16)
    return parser


def main():
    parser = corpus_size_parser(__doc__.split("\n")[0])
    parser.add_argument("--kind", default="word", choices=["word", "wordpiece"])
    args = parser.parse_args()
    print(f"{'pairs':>10} {'CPU-s':>8} {'wall-s':>8} {'peak RSS':>9} {'CPU-s/M pairs':>14} "
          f"{'serial CPU-s':>13}")
    for pairs in (int(p) for p in args.pairs.split(",")):
        result = measure(corpus_dir(args.cache_dir, pairs), args.kind, args.cores)
        print(f"{pairs:>10,} {result['cpu']:>8.0f} {result['wall']:>8.0f} "
              f"{result['peak_rss_gb']:>7.2f}GB {result['cpu'] / (pairs / 1e6):>14.1f} "
              f"{result['serial']:>13.1f}", flush=True)
    # Per-pair costs of the largest corpus, scaled linearly (the fixed costs, tracing and
    # the vocabulary selection, are counted as if they grew too: an over-estimate).
    scale = WMT14_PAIRS / pairs
    total, serial = result["cpu"] * scale, result["serial"] * scale
    parallel = total - serial
    print(f"extrapolated to {WMT14_PAIRS:,} pairs: {total:,.0f} CPU-s = {total / 60:.0f} min on "
          f"one core; serial part (reading, merging) {serial:,.0f} CPU-s")
    print(f"on {args.target_cores} cores: at most serial + rest / {args.target_cores} = "
          f"{(serial + parallel / args.target_cores) / 60:.1f} min "
          f"(at least {max(serial, total / args.target_cores) / 60:.1f} min)")


if __name__ == "__main__":
    main()
