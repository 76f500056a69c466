"""Word vocabularies: the paper's "most frequent N words, the rest `<unk>`".

A vocabulary is a plain UTF-8 file, one token per line; the line number is the
id. The first lines are the special tokens, at fixed ids shared by every
vocabulary (`PAD_ID`, `UNK_ID`, `BOS_ID`, `EOS_ID`).
"""

import collections
import os

import tensorflow as tf

from tf_seq2seq.errors import Seq2SeqError

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(len(SPECIALS))

SOURCE_FILE = "source.txt"
TARGET_FILE = "target.txt"


def _count(counts, tokens):
    """Adds the tokens of a `tf.RaggedTensor` string [batch, None] to `counts`."""
    counts.update(t.decode("utf-8") for t in tokens.flat_values.numpy())


def most_frequent(counts, size):
    """The vocabulary of the `size - len(SPECIALS)` most frequent tokens.

    Ties are broken by the token's text, so the result is deterministic.

    Args:
        counts: mapping from token to count.
        size: total vocabulary size, special tokens included.

    Returns:
        A list of `size` tokens or fewer, special tokens first.

    Raises:
        Seq2SeqError: if `size` leaves no room for words.
    """
    if size <= len(SPECIALS):
        raise Seq2SeqError(f"vocabulary size {size} must be larger than {len(SPECIALS)}")
    words = sorted((t for t in counts if t not in SPECIALS), key=lambda t: (-counts[t], t))
    return list(SPECIALS) + words[: size - len(SPECIALS)]


def write(path, tokens):
    """Writes `tokens` one per line to `path` (atomically: readers never see part of it)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.writelines(token + "\n" for token in tokens)
    os.replace(path + ".tmp", path)


def read(path):
    """Reads a vocabulary written by `write`.

    Raises:
        Seq2SeqError: if the file is missing or does not start with `SPECIALS`.
    """
    if not os.path.isfile(path):
        raise Seq2SeqError(f"vocabulary file not found: {path}")
    with open(path, encoding="utf-8") as f:
        tokens = [line.rstrip("\n") for line in f]
    if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
        raise Seq2SeqError(f"{path} does not start with the special tokens {SPECIALS}")
    return tokens


def learn_wordpiece(counts, size):
    """A WordPiece vocabulary of at most `size` tokens learnt from word counts.

    Uses tensorflow-text's learner (the BERT vocabulary algorithm): every
    character seen becomes a token (alone and as `##` suffix), then frequent
    word parts up to the size.

    Args:
        counts: mapping from word (str) to count.
        size: total vocabulary size, special tokens included.

    Returns:
        A list of tokens, special tokens first.
    """
    from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

    words = [(word, count) for word, count in counts.items() if word not in SPECIALS]
    tokens = learner.learn(words, size, list(SPECIALS), lower_thresh=1, max_input_tokens=-1)
    return list(SPECIALS) + [t for t in tokens if t not in SPECIALS]


def build(pairs, split_fn, source_size, target_size, kind, batch_size=4096):
    """Builds source and target vocabularies from a parallel corpus in one pass.

    Args:
        pairs: `tf.data.Dataset` of `{"source": string [], "target": string []}`.
        split_fn: function from string [batch] to ragged string tokens
            [batch, None] (`tokenizer.split_words`).
        source_size: source vocabulary size, special tokens included.
        target_size: target vocabulary size, special tokens included.
        kind: `word` (the most frequent words) or `wordpiece` (`learn_wordpiece`).
        batch_size: sentences split per call of `split_fn`.

    Returns:
        `(source_tokens, target_tokens)`, two lists of strings. Memory grows
        with the number of distinct words, not with the corpus.
    """
    batches = pairs.batch(batch_size).map(
        lambda b: (split_fn(b["source"]), split_fn(b["target"])),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    source_counts, target_counts = collections.Counter(), collections.Counter()
    for source_tokens, target_tokens in batches.prefetch(tf.data.AUTOTUNE):
        _count(source_counts, source_tokens)
        _count(target_counts, target_tokens)
    make = {"word": most_frequent, "wordpiece": learn_wordpiece}[kind]
    return make(source_counts, source_size), make(target_counts, target_size)


def paths(model_dir):
    """`(source_path, target_path)` of the vocabularies in a model directory."""
    directory = os.path.join(model_dir, "vocab")
    return os.path.join(directory, SOURCE_FILE), os.path.join(directory, TARGET_FILE)
