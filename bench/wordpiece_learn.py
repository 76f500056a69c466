"""CPU-seconds of learning the paper-size WordPiece vocabularies from a corpus's word counts.

    taskset -c 1 .venv/bin/python bench/vocab_build.py --pairs=2000000   # generates the corpus
    taskset -c 1 .venv/bin/python bench/wordpiece_learn.py [--dataset=files:DIR]

Counts the words of both sides (`word_counts.count`, not timed), then times
`vocab.learn_wordpiece` for the 160k-token source and the 80k-token target
vocabulary of `pipelines/wmt14_en_fr_paper.flags`, and prints how much of each
side's words the `vocab.WORDPIECE_WORDS` most frequent words it learns from make.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tf_seq2seq import corpus, tokenizer, vocab, word_counts  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="files:/tmp/tf_seq2seq_vocab_bench/synthetic_2000000",
                        help="a files: corpus with a train split (default: bench/vocab_build.py's 2M pairs)")
    args = parser.parse_args()
    pairs = corpus.load(args.dataset, "train", "en", "fr")
    counts = word_counts.count(pairs, tokenizer.count_words, 80, 80)
    for side, name, size in ((counts.source, "source", 160_000), (counts.target, "target", 80_000)):
        start = time.process_time()
        tokens = vocab.learn_wordpiece(side, size)
        print(f"{name}: {len(tokens):,} tokens in {time.process_time() - start:.1f} CPU-seconds; the "
              f"{vocab.WORDPIECE_WORDS:,} most frequent words make {100 * side.coverage(vocab.WORDPIECE_WORDS):.1f}% "
              f"of its words", flush=True)


if __name__ == "__main__":
    main()
