"""Peak RSS of training at the longest batches, with the peer's model and settings.

    taskset -c 1 .venv/bin/python bench/train_memory.py [--mixed_precision=mixed_bfloat16] [--steps=30]
        [--tokenizer=wordpiece]

A training run's peak memory is set by its longest batches. This writes a
synthetic corpus whose every pair has `--words` words per side (random words
of a 12k-word vocabulary, so both 10k vocabularies fill up), then trains
`bench/peer.py`'s model and settings on it (2 x 256 LSTM, batch 64, 10k
vocabularies, 50-token limits; `--tokenizer` word or wordpiece, whose
vocabularies are learnt before the timed run) for `--steps` steps through the `train` CLI,
and prints its CPU-seconds and peak RSS (`/usr/bin/time`), next to the peak
RSS of a process that only imports the `train` command (TensorFlow, Keras and
the tensorflow-text ops it uses: `tf_seq2seq.text_ops`).
"""

import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import peer  # noqa: E402  (the peer's settings, training through the CLI)

from tf_seq2seq import config as config_lib, settings  # noqa: E402

SPLITS = {"train": 2000, "val": 10, "test2016": 10}


def write_corpus(directory, words, seed=0):
    """Writes SPLIT.{en,fr} of `SPLITS` pairs, each side `words` random words long."""
    rng = np.random.default_rng(seed)
    for split, pairs in SPLITS.items():
        for lang in ("en", "fr"):
            ids = rng.integers(0, 12000, size=[pairs, words])
            with open(os.path.join(directory, f"{split}.{lang}"), "w", encoding="utf-8") as f:
                f.writelines(" ".join(f"w{i}" for i in row) + "\n" for row in ids)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mixed_precision", default="", choices=["", "mixed_bfloat16"])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--tokenizer", default="word", choices=settings.TOKENIZERS)
    parser.add_argument("--words", type=int, default=49, help="words per side (49: 51 tokens with <s>, </s>)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as corpus_dir, tempfile.TemporaryDirectory() as model_dir:
        write_corpus(corpus_dir, args.words)
        config = config_lib.Config(
            **peer.PEER_SETTINGS, dataset=f"files:{corpus_dir}", train_steps=args.steps, epochs=100.0,
            checkpoint_every_steps=args.steps, mixed_precision=args.mixed_precision, tokenizer=args.tokenizer,
        )
        cpu_seconds, rss = peer.train(config, model_dir)
    _, import_rss = peer.timed_run([sys.executable, "-c", "import tf_seq2seq.train"])
    print(f"{args.steps} steps of 64 pairs x {args.words} words, {args.tokenizer} tokenizer, "
          f"{args.mixed_precision or 'float32'}: "
          f"{cpu_seconds:.1f} CPU-s, peak RSS {rss / 1e9:.2f} GB "
          f"(importing the train command: {import_rss / 1e9:.2f} GB)")


if __name__ == "__main__":
    main()
