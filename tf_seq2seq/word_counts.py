"""Word counts of a parallel corpus: one streamed pass, in bounded memory.

`count` tokenizes batches of pairs in parallel (`tf.data`) and merges their
distinct tokens into one hash table per side, pruning the rarest when a side
grows past `MAX_TOKENS`; `vocab` builds the vocabularies from the result.
"""

import dataclasses

import tensorflow as tf

# Distinct tokens counted per side before the rarest are pruned (`count`); the
# 8M-pair synthetic corpus of bench/vocab_build.py has ~0.8M per side.
MAX_TOKENS = 8_000_000


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
