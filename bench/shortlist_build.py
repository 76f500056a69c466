"""Learning a vocabulary shortlist at WMT'14 scale: CPU-seconds and peak memory.

    taskset -c 1 .venv/bin/python bench/shortlist_build.py [--pairs=500000,2000000,8000000]

On the synthetic corpora of `bench/vocab_build.py` (Multi30k sentences with Zipf
words, cached under --cache_dir), in a fresh process per size: builds the paper
recipe's vocabularies (160k/80k words, untimed), then times
`shortlist.for_model_dir` in a process of its own (one pass: tokenizing and
pairing in parallel in `tf.data`, merging on one thread; peak RSS is that
process's), and after it the two serial parts, reading the corpus and
merging the batches' counts, on its first 1M pairs. Prints CPU-seconds, wall seconds,
peak RSS and distinct pairs kept, and extrapolates linearly to the 40.8M pairs
of WMT'14 on one core and on --target_cores cores (Amdahl: the merge's
CPU-seconds bound the speed-up).
"""

import json
import os
import subprocess
import sys
import tempfile

from vocab_build import RECIPE, SERIAL_PAIRS, WMT14_PAIRS, corpus_dir, corpus_size_parser

CHILD = """
import json, resource, sys, time
import numpy as np
import tensorflow as tf
from tf_seq2seq import corpus, flags, model_dir as model_dir_lib, shortlist, tokenizer
flags.FLAGS([sys.argv[0], "--flagfile=" + sys.argv[1], "--dataset=files:" + sys.argv[2]])
config = flags.config_from_flags()
model_dir, serial_pairs = sys.argv[3], int(sys.argv[4])
if serial_pairs == 0:  # The vocabularies, in a process of their own.
    model_dir_lib.prepare_model_dir(config, model_dir, corpus.training_pairs(config))
    sys.exit()
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
start, wall = cpu(), time.perf_counter()
shortlist.for_model_dir(config, model_dir, config.shortlist_words, config.shortlist_frequent)
total, wall = cpu() - start, time.perf_counter() - wall
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
with np.load(model_dir + "/" + shortlist.COUNTS_FILE) as saved:
    kept = int(saved["keys"].size)
pairs = corpus.training_pairs(config).take(serial_pairs)
start = cpu()
pairs.batch(4096).reduce(tf.constant(0), lambda n, batch: n + 1)
read = cpu() - start
batches = shortlist.batch_counts(pairs, *tokenizer.from_model_dir(model_dir, config.tokenizer)).cache()
batches.reduce(tf.constant(0), lambda n, *batch: n + 1)
start = cpu()
shortlist.count(batches)
merge = cpu() - start
pairs = int(corpus.load(config.dataset, "train", "en", "fr").cardinality())
print(json.dumps({"cpu": total, "wall": wall, "peak_rss_gb": peak, "kept": kept,
                  "serial": (read + merge) / min(1.0, serial_pairs / pairs)}))
"""


def measure(directory, cores):
    """Builds the vocabularies, then learns the shortlist in a fresh process pinned to `cores` CPUs."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    with tempfile.TemporaryDirectory() as model_dir:
        for serial_pairs in (0, SERIAL_PAIRS):
            command = [sys.executable, "-c", CHILD, RECIPE, directory, model_dir, str(serial_pairs)]
            if cores:
                command = ["taskset", "-c", cores] + command
            output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    args = corpus_size_parser(__doc__.split("\n")[0]).parse_args()
    print(f"{'pairs':>10} {'CPU-s':>8} {'wall-s':>8} {'peak RSS':>9} {'CPU-s/M pairs':>14} "
          f"{'serial CPU-s':>13} {'pairs kept':>11}")
    for pairs in (int(p) for p in args.pairs.split(",")):
        result = measure(corpus_dir(args.cache_dir, pairs), args.cores)
        print(f"{pairs:>10,} {result['cpu']:>8.0f} {result['wall']:>8.0f} "
              f"{result['peak_rss_gb']:>7.2f}GB {result['cpu'] / (pairs / 1e6):>14.1f} "
              f"{result['serial']:>13.1f} {result['kept']:>11,}", flush=True)
    scale = WMT14_PAIRS / pairs
    total, serial = result["cpu"] * scale, result["serial"] * scale
    print(f"extrapolated to {WMT14_PAIRS:,} pairs: {total:,.0f} CPU-s = {total / 60:.0f} min on one core; "
          f"serial part (reading, merging) {serial:,.0f} CPU-s")
    print(f"on {args.target_cores} cores: at most serial + rest / {args.target_cores} = "
          f"{(serial + (total - serial) / args.target_cores) / 60:.1f} min "
          f"(at least {max(serial, total / args.target_cores) / 60:.1f} min)")


if __name__ == "__main__":
    main()
