"""Word vocabularies: the paper's "most frequent N words, the rest `<unk>`".

A vocabulary is a plain UTF-8 file, one token per line; the line number is the
id. The first lines are the special tokens, at fixed ids shared by every
vocabulary (`PAD_ID`, `UNK_ID`, `BOS_ID`, `EOS_ID`).
"""

import dataclasses
import os

import tensorflow as tf

from tf_seq2seq.errors import Seq2SeqError

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(len(SPECIALS))

# Distinct tokens counted per side before the rarest are pruned (`count`); the
# 8M-pair synthetic corpus of bench/vocab_build.py has ~0.8M per side.
MAX_TOKENS = 8_000_000

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
        counts: a `TokenCounts` of words.
        size: total vocabulary size, special tokens included.
        max_words: learn from this many most frequent words (the learner is
            Python: its time grows with them); `TokenCounts.coverage` tells
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


@dataclasses.dataclass
class TokenCounts:
    """Token counts held as tensors (compact: no Python object per token).

    Attributes:
        tokens: string [N], distinct tokens.
        counts: int64 [N], their counts.
    """

    tokens: tf.Tensor
    counts: tf.Tensor

    def __len__(self):
        return int(tf.size(self.tokens))

    def coverage(self, n):
        """The fraction of all token occurrences that the `n` most frequent tokens make."""
        total = int(tf.reduce_sum(self.counts))
        top = tf.math.top_k(self.counts, k=min(n, len(self)), sorted=False).values
        return int(tf.reduce_sum(top)) / max(total, 1)

    def most_common(self, n):
        """The `n` most frequent tokens with their counts, ties broken by text.

        Returns:
            A dict from token (str) to count (int) of at most `n` entries, in
            order of decreasing count, then increasing text.
        """
        n = min(n, len(self))
        if n <= 0:
            return {}
        threshold = tf.math.top_k(self.counts, k=n, sorted=False).values.numpy().min()
        keep = self.counts >= threshold  # The n most frequent and all ties with the last.
        tokens = tf.boolean_mask(self.tokens, keep).numpy()
        counts = tf.boolean_mask(self.counts, keep).numpy().tolist()
        ranked = sorted(zip(counts, tokens), key=lambda pair: (-pair[0], pair[1]))[:n]
        return {token.decode("utf-8"): count for count, token in ranked}


class _TokenCounter(tf.Module):
    """Token counts in a `tf.lookup` hash table, kept under `max_tokens` entries.

    When a merge leaves more than `max_tokens` tokens, the rarest are dropped:
    every token whose count is at most the count `c` of the
    `max_tokens // 2 + 1`-th most frequent one. Memory stays bounded whatever
    the corpus; counts stay exact until the first pruning, and afterwards any
    count is short by at most `max_undercount`, the sum of the `c`s.
    """

    def __init__(self, max_tokens):
        super().__init__()
        self._table = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, default_value=0)
        self._max_tokens = max_tokens
        self.max_undercount = 0

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.int64)])
    def _merge(self, tokens, counts):
        self._table.insert(tokens, self._table.lookup(tokens) + counts)
        return self._table.size()

    def add(self, tokens, counts):
        """Adds `counts` (int64 [U]) of the distinct `tokens` (string [U])."""
        if int(self._merge(tokens, counts)) > self._max_tokens:
            keys, values = self._table.export()
            cut = int(tf.math.top_k(values, k=self._max_tokens // 2 + 1).values[-1])
            self._table.remove(tf.boolean_mask(keys, values <= cut))
            self.max_undercount += cut

    def counts(self):
        """The counts as a `TokenCounts`."""
        return TokenCounts(*self._table.export())


@dataclasses.dataclass
class CorpusCounts:
    """What one pass over a parallel corpus counted (`count`).

    Attributes:
        source: `TokenCounts` of the source side.
        target: `TokenCounts` of the target side.
        pairs: pairs read.
        dropped: pairs with an empty side or a side longer than its length
            limit, in tokens of the counting function (words).
        max_undercount: 0 if the counts are exact; else tokens may have been
            pruned (`count`'s `max_tokens`) and any count may be short by up
            to this much.
    """

    source: TokenCounts
    target: TokenCounts
    pairs: int
    dropped: int
    max_undercount: int


def batch_counts(pairs, count_fn, max_source_length, max_target_length, batch_size=16384):
    """Per-batch token counts of a parallel corpus, computed in parallel by `tf.data`.

    Args:
        pairs: `tf.data.Dataset` of `{"source": string [], "target": string []}`.
        count_fn: string [batch] -> `(tokens string [U], counts int64 [U],
            lengths int64 [batch])` (`tokenizer.count_words`).
        max_source_length: source length limit (for the dropped pairs).
        max_target_length: target length limit.
        batch_size: sentences tokenized per call of `count_fn`.

    Returns:
        A `tf.data.Dataset` of tuples `(source_tokens string [U], source_counts
        int64 [U], target_tokens string [V], target_counts int64 [V], dropped
        int64 [], pairs int64 [])`, one per batch: a pair is dropped when a
        side is empty or longer than its limit.
    """

    def count_batch(batch):
        source_tokens, source_counts, source_lengths = count_fn(batch["source"])
        target_tokens, target_counts, target_lengths = count_fn(batch["target"])
        drop = (source_lengths == 0) | (target_lengths == 0)
        drop |= (source_lengths > max_source_length) | (target_lengths > max_target_length)
        return (source_tokens, source_counts, target_tokens, target_counts,
                tf.reduce_sum(tf.cast(drop, tf.int64)), tf.size(drop, out_type=tf.int64))

    return pairs.batch(batch_size).map(count_batch, num_parallel_calls=tf.data.AUTOTUNE)


def merge(batches, max_tokens=MAX_TOKENS):
    """Sums the per-batch counts of `batch_counts` on the host (one thread).

    Args:
        batches: the dataset `batch_counts` returns.
        max_tokens: distinct tokens kept per side before the rarest are pruned.

    Returns:
        A `CorpusCounts`.
    """
    source, target = _TokenCounter(max_tokens), _TokenCounter(max_tokens)
    dropped = total = 0
    for source_tokens, source_counts, target_tokens, target_counts, drop, size in batches.prefetch(2):
        source.add(source_tokens, source_counts)
        target.add(target_tokens, target_counts)
        dropped, total = dropped + int(drop), total + int(size)
    return CorpusCounts(source.counts(), target.counts(), total, dropped,
                        max(source.max_undercount, target.max_undercount))


def count(pairs, count_fn, max_source_length, max_target_length, batch_size=16384,
          max_tokens=MAX_TOKENS):
    """Counts the tokens of both sides of a parallel corpus and the pairs to drop, in one pass.

    Batches of sentences are tokenized and reduced to distinct tokens with
    counts in parallel (`batch_counts`), then merged into one hash table per
    side (`merge`). Peak memory is bounded by the tables (at most `max_tokens`
    entries per side, ~80-110 bytes each for tokens up to 22 bytes, longer
    tokens add their length) plus a few batches in flight, whatever the
    corpus size; counts are exact unless a side has more than `max_tokens`
    distinct tokens (`CorpusCounts.max_undercount`).

    Args:
        pairs: `tf.data.Dataset` of `{"source": string [], "target": string []}`.
        count_fn: string [batch] -> `(tokens string [U], counts int64 [U],
            lengths int64 [batch])` (`tokenizer.count_words`).
        max_source_length: source length limit (for `CorpusCounts.dropped`).
        max_target_length: target length limit.
        batch_size: sentences tokenized per call of `count_fn`.
        max_tokens: distinct tokens kept per side before the rarest are pruned.

    Returns:
        A `CorpusCounts`.
    """
    batches = batch_counts(pairs, count_fn, max_source_length, max_target_length, batch_size)
    return merge(batches, max_tokens)


def build(counts, source_size, target_size, kind):
    """Source and target vocabularies from corpus counts.

    Args:
        counts: a `CorpusCounts`.
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
