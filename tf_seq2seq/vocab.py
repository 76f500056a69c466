"""Word vocabularies: the paper's "most frequent N words, the rest `<unk>`".

A vocabulary is a plain UTF-8 file, one token per line; the line number is the
id. The first lines are the special tokens, at fixed ids shared by every
vocabulary (`PAD_ID`, `UNK_ID`, `BOS_ID`, `EOS_ID`). A training run builds its
two from the training pairs it reads (`count_training_pairs`, then
`write_for_model_dir`).
"""

import os

from absl import logging

from tf_seq2seq import word_counts
from tf_seq2seq.errors import Seq2SeqError

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(len(SPECIALS))

# Words a WordPiece vocabulary is learnt from (`learn_wordpiece`).
WORDPIECE_WORDS = 200_000
SUFFIX = "##"  # Marks a wordpiece that continues a word.

SOURCE_FILE = "source.txt"
TARGET_FILE = "target.txt"


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


def learn_wordpiece(counts, size, max_words=WORDPIECE_WORDS):
    """A WordPiece vocabulary of exactly `size` tokens learnt from word counts.

    Uses tensorflow-text's learner (the BERT vocabulary algorithm) on the
    `max_words` most frequent words: every character seen becomes a token
    (alone and as `##` suffix), plus every word part seen at least `t` times.
    Instead of the learner's binary search over `t` (one learning run per
    step, and a size only within 5%), `t` starts at the count of the `size`-th
    most frequent word and halves until the pieces fill the vocabulary
    (usually one run); the rarest pieces beyond `size` are dropped, or, when
    even `t = 1` gives too few, the most frequent whole words fill the rest.

    Args:
        counts: a `word_counts.TokenCounts` of words.
        size: total vocabulary size, special tokens included.
        max_words: learn from this many most frequent words (the learner is
            Python: its time grows with them); `word_counts.TokenCounts.coverage` tells
            how much of the corpus they make.

    Returns:
        A list of `size` distinct tokens, special tokens first (fewer only if
        the words hold fewer possible pieces).

    Raises:
        Seq2SeqError: if `size` cannot hold the special tokens and every
            character (alone and as a suffix).
    """
    from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

    frequent = {w: c for w, c in counts.most_common(max_words).items() if w not in SPECIALS}
    characters = sorted({c for word in frequent for c in word})
    room = size - len(SPECIALS) - 2 * len(characters)
    if room < 0:
        raise Seq2SeqError(
            f"vocabulary size {size} cannot hold the {len(SPECIALS)} special tokens and the "
            f"{len(characters)} characters (alone and as {SUFFIX} suffixes) of the corpus"
        )
    threshold = list(frequent.values())[min(size, len(frequent)) - 1]
    while True:
        learnt = learner.learn(list(frequent.items()), size, [], upper_thresh=threshold,
                               lower_thresh=threshold, max_input_tokens=-1, joiner=SUFFIX,
                               max_unique_chars=len(characters))
        pieces = [t for t in learnt if len(t.removeprefix(SUFFIX)) > 1]
        if len(pieces) >= room or threshold == 1:
            break
        threshold //= 2
    known = set(pieces)
    fill = [word for word in frequent if word not in known and len(word) > 1]
    suffixes = [SUFFIX + c for c in characters]
    return list(SPECIALS) + characters + suffixes + (pieces + fill)[:room]


def build(counts, source_size, target_size, kind):
    """Source and target vocabularies from corpus counts.

    Args:
        counts: a `word_counts.CorpusCounts`.
        source_size: source vocabulary size, special tokens included.
        target_size: target vocabulary size, special tokens included.
        kind: `word` (the most frequent words) or `wordpiece` (`learn_wordpiece`).

    Returns:
        `(source_tokens, target_tokens)`, two lists of strings.
    """
    if kind == "wordpiece":
        return learn_wordpiece(counts.source, source_size), learn_wordpiece(counts.target, target_size)
    return (most_frequent(counts.source.most_common(source_size), source_size),
            most_frequent(counts.target.most_common(target_size), target_size))


def paths(model_dir):
    """`(source_path, target_path)` of the vocabularies in a model directory."""
    directory = os.path.join(model_dir, "vocab")
    return os.path.join(directory, SOURCE_FILE), os.path.join(directory, TARGET_FILE)


def count_training_pairs(pairs, count_fn, config):
    """Counts the words of the training pairs a vocabulary is built from, in one pass.

    Args:
        pairs: the training split (`corpus.training_pairs`), a `tf.data.Dataset`
            of `{"source": string [], "target": string []}`; its first
            `config.vocab_sample_size` pairs only, if that is set.
        count_fn: string [batch] -> `(tokens string [U], counts int64 [U],
            lengths int64 [batch])` (`tokenizer.count_words`).
        config: a `config.Config` (`vocab_sample_size`, the length limits).

    Returns:
        A `word_counts.CorpusCounts`, whose `dropped` pairs are those the
        length limits skip in training.
    """
    if config.vocab_sample_size > 0:
        pairs = pairs.take(config.vocab_sample_size)
    counts = word_counts.count(pairs, count_fn, config.max_source_length, config.max_target_length)
    if counts.max_undercount:
        logging.warning(
            "More distinct words than the counting tables hold: the rarest were pruned, so "
            "word counts may be short by up to %d", counts.max_undercount,
        )
    return counts


def write_for_model_dir(counts, config, model_dir):
    """Builds the source and target vocabularies of `config` from `counts` and writes them to `paths`.

    Args:
        counts: a `word_counts.CorpusCounts` (`count_training_pairs`).
        config: a `config.Config` (`tokenizer`, `source_vocab_size`, `target_vocab_size`).
        model_dir: the model directory.
    """
    source_tokens, target_tokens = build(
        counts, config.source_vocab_size, config.target_vocab_size, config.tokenizer
    )
    for path, tokens in zip(paths(model_dir), (source_tokens, target_tokens)):
        write(path, tokens)
    logging.info(
        "Vocabularies: %d source, %d target tokens (of %d and %d distinct words)",
        len(source_tokens), len(target_tokens), len(counts.source), len(counts.target),
    )
    if config.tokenizer == "wordpiece":
        logging.info(
            "WordPiece learnt from the %d most frequent words of each side: %.2f%% of source "
            "and %.2f%% of target words in the corpus", WORDPIECE_WORDS,
            100 * counts.source.coverage(WORDPIECE_WORDS), 100 * counts.target.coverage(WORDPIECE_WORDS),
        )
