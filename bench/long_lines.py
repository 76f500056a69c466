"""Peak memory of vocabulary building on a corpus with one over-long line, against the clean corpus.

    .venv/bin/python bench/long_lines.py [--megabytes=2] [--corpus=../shared/data/multi30k_en_fr]

Copies the training split of `--corpus` twice, appends to one copy a pair whose
source is a line of `--megabytes` MB of words (raw web-crawled corpora hold
such lines), builds the vocabularies of each in a fresh process
(`model_dir.prepare_model_dir`, the first step of `train`) under
`/usr/bin/time`, and prints both peak RSS figures and their ratio.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = """
import sys
from tf_seq2seq import config, corpus, model_dir
settings = config.Config(dataset="files:" + sys.argv[1], source_vocab_size=10000, target_vocab_size=10000)
model_dir.prepare_model_dir(settings, sys.argv[2], corpus.training_pairs(settings))
"""


def peak_rss(corpus_dir, work):
    """Peak RSS in bytes of building the vocabularies of `corpus_dir` in a fresh process."""
    report = os.path.join(work, "time.txt")
    subprocess.run(["/usr/bin/time", "-o", report, "-f", "%M", sys.executable, "-c", BUILD, corpus_dir,
                    tempfile.mkdtemp(dir=work)], check=True, stderr=subprocess.DEVNULL)
    with open(report, encoding="utf-8") as f:
        return int(f.read().split()[-1]) * 1024


def corpus_copy(source_dir, target_dir, long_line_bytes):
    """Copies `train.en`/`train.fr`, appending a pair with a source of `long_line_bytes` (0: none)."""
    os.makedirs(target_dir)
    for lang in ("en", "fr"):
        shutil.copy(os.path.join(source_dir, f"train.{lang}"), target_dir)
    if long_line_bytes:
        with open(os.path.join(target_dir, "train.en"), "a", encoding="utf-8") as f:
            f.write("word " * (long_line_bytes // 5) + "\n")
        with open(os.path.join(target_dir, "train.fr"), "a", encoding="utf-8") as f:
            f.write("mot\n")
    return target_dir


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=2.0)
    parser.add_argument("--corpus", default=os.path.join(HERE, "..", "..", "shared", "data", "multi30k_en_fr"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        clean = peak_rss(corpus_copy(args.corpus, os.path.join(work, "clean"), 0), work)
        long = peak_rss(corpus_copy(args.corpus, os.path.join(work, "long"), int(args.megabytes * 2**20)), work)
    print(f"vocabulary building peak RSS: clean {clean / 1e9:.2f} GB, with a {args.megabytes:g} MB line "
          f"{long / 1e9:.2f} GB ({long / clean:.2f}x)")


if __name__ == "__main__":
    main()
