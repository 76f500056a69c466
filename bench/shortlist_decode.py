"""Batch-1 decode time against the target vocabulary size, with and without a vocabulary shortlist.

    taskset -c 1 .venv/bin/python bench/shortlist_decode.py [--vocab_sizes=10000,40000,80000]

At the paper's size (4 x 1000 LSTMs, 1000-d embeddings, 160k source words;
random weights, which is all speed needs) for each target vocabulary size:
CPU-seconds of this process per one-sentence request (beam 5, 20-word
sources, in-process `Translator.beam_search`, one untimed warm-up call),
searching the whole softmax and searching a shortlist of 20 candidates per
source word plus the 200 most frequent target words (random candidates: the
union is as large as it can get for that many words). `<eos>` is made
impossible, so every search runs exactly `--steps` steps and the two sides
do the same number of steps. Prints one Markdown row per size; the shortlist
column should stay nearly flat while the full one grows with the vocabulary.

Compare on one pinned core (`taskset -c N`).
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tf_seq2seq import config as config_lib  # noqa: E402
from tf_seq2seq import model as model_lib  # noqa: E402
from tf_seq2seq import shortlist, tokenizer, vocab  # noqa: E402
from tf_seq2seq import translator as translator_lib  # noqa: E402

SOURCE_WORDS = 160_000
PAPER = dict(num_layers=4, units=1000, embedding_dim=1000, beam_size=5, length_penalty=0.0)


def vocabulary_file(directory, name, size):
    """Writes a vocabulary of `size` tokens (the specials, then words); returns its path.

    Tokens are words as `tokenizer.split_words` cuts them (`▁w4`, `▁w5`, ...).
    """
    path = os.path.join(directory, name)
    words = [f"{tokenizer.SPACE}w{i}" for i in range(len(vocab.SPECIALS), size)]
    vocab.write(path, list(vocab.SPECIALS) + words)
    return path


def translators(directory, target_words, steps, per_word, frequent, seed):
    """`(full, shortlisted)` translators of one random paper-size model without `<eos>`."""
    config = config_lib.Config(**PAPER, source_vocab_size=SOURCE_WORDS, target_vocab_size=target_words,
                               max_decode_length=steps, max_decode_ratio=100.0)
    keras.utils.set_random_seed(seed)
    seq2seq = model_lib.Seq2Seq(config, SOURCE_WORDS, target_words)
    bias = seq2seq.projection.bias
    bias.assign(tf.tensor_scatter_nd_update(bias, [[vocab.EOS_ID]], [-1e9]))
    source = tokenizer.WordTokenizer(vocabulary_file(directory, "source.txt", SOURCE_WORDS))
    target = tokenizer.WordTokenizer(vocabulary_file(directory, f"target{target_words}.txt", target_words))
    rng = np.random.default_rng(seed)
    chosen = shortlist.Shortlist(
        rng.integers(len(vocab.SPECIALS), target_words, [SOURCE_WORDS, per_word]).astype(np.int32),
        np.arange(len(vocab.SPECIALS) + frequent, dtype=np.int32),
    )
    return tuple(translator_lib.Translator(seq2seq, source, target, config, keep_decode_weights=True,
                                           shortlist=table) for table in (None, chosen))


def seconds_per_sentence(translator, sentences):
    """CPU-seconds per one-sentence `beam_search` call (after an untimed warm-up)."""
    call = translator.beam_search
    call(tf.constant(sentences[:1]), tf.constant(5), tf.constant(1))
    start = time.process_time()
    for sentence in sentences:
        call(tf.constant([sentence]), tf.constant(5), tf.constant(1))
    return (time.process_time() - start) / len(sentences)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab_sizes", default="10000,40000,80000")
    parser.add_argument("--sentences", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30, help="tokens generated per sentence")
    parser.add_argument("--shortlist_words", type=int, default=20)
    parser.add_argument("--shortlist_frequent", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    sentences = [" ".join(f"w{i}" for i in rng.integers(4, 30_000, 20)) for _ in range(args.sentences)]
    print(f"4 x 1000 LSTM, beam 5, batch 1, {args.steps} steps, 20-word sources, shortlist "
          f"{args.shortlist_words} per word + {args.shortlist_frequent} frequent")
    print("| target words | full softmax, CPU-s per sentence | shortlist, CPU-s per sentence "
          "| shortlist size | speed-up |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as directory:
        for target_words in (int(size) for size in args.vocab_sizes.split(",")):
            full, shortlisted = translators(directory, target_words, args.steps, args.shortlist_words,
                                            args.shortlist_frequent, seed=1)
            source_ids = shortlisted.encode(tf.constant(sentences[:1])).source_ids
            size = int(tf.size(shortlist.vocabulary(shortlisted.shortlist.candidates,
                                                    shortlisted.shortlist.always, source_ids)))
            full_seconds = seconds_per_sentence(full, sentences)
            shortlisted_seconds = seconds_per_sentence(shortlisted, sentences)
            print(f"| {target_words:,} | {full_seconds:.3f} | {shortlisted_seconds:.3f} | {size} "
                  f"| {full_seconds / shortlisted_seconds:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
