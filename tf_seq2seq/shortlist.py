"""Vocabulary shortlists: the target words a request's source words are likely to produce.

A beam step multiplies every live hypothesis by the whole softmax kernel
([units, target vocabulary]), so a one-sentence request streams every target
word's weights at every step. A shortlist restricts the output layer of a
request to the union of

* the special tokens (`<eos>` and `<unk>` are always candidates),
* the `frequent` most frequent target tokens of the training split, and
* for each distinct source token of the request, its `per_word` most
  associated target tokens,

so decoding reads a few hundred or thousand softmax rows, a number that grows
with the sentences, not with the vocabulary (the idea of Marian's lexical
shortlists and CTranslate2's vocabulary map; the method here is our own).

The association is learnt in one streaming pass over the training split:
sentence-level co-occurrence counts `c(s, t)` of source and target tokens,
ranked per source token by the Dice coefficient `2 c(s, t) / (c(s) + c(t))`
(c(w): the sentences holding w). We chose counts over IBM Model 1: one pass
instead of several, counts that merge exactly across parallel batches, and
the weakness Model 1's EM fixes (function words co-occur with everything)
is covered by the frequent words, which are always in, and by Dice, which
discounts a target word by its own frequency.

The counting runs in parallel in `tf.data` (tokenize, pair the distinct
tokens of each sentence, count per batch) and merges on the host in a table
of at most `max_pairs` distinct pairs: past that, the rarest pairs are
dropped (as `word_counts.count` does for words), so memory is bounded whatever
the corpus. In a search the shortlist's ids are sorted, so the special tokens
keep their ids and ties between tokens are broken in vocabulary order, as
without a shortlist.
"""

import dataclasses
import hashlib
import os

import numpy as np
import tensorflow as tf
from absl import logging

from tf_seq2seq import corpus
from tf_seq2seq import tokenizer as tokenizer_lib
from tf_seq2seq import vocab
from tf_seq2seq.errors import Seq2SeqError

# Distinct (source, target) pairs counted before the rarest are pruned (16 bytes each,
# about 3x that while merging).
MAX_PAIRS = 16_000_000
COUNTS_FILE = "shortlist_counts.npz"
_SPECIAL_IDS = np.arange(len(vocab.SPECIALS), dtype=np.int32)


@dataclasses.dataclass
class CooccurrenceCounts:
    """What `count` counted, sentence-level.

    Attributes:
        keys: int64 [P], sorted, `source_id * target_vocab_size + target_id`
            of each pair seen in a sentence pair.
        counts: int64 [P], the sentence pairs holding both.
        source: int64 [source_vocab_size], the sentences holding each source token.
        target: int64 [target_vocab_size], the sentences holding each target token.
        max_undercount: 0 if the pair counts are exact, else the most any may be short by.
    """

    keys: np.ndarray
    counts: np.ndarray
    source: np.ndarray
    target: np.ndarray
    max_undercount: int = 0


@dataclasses.dataclass
class Shortlist:
    """A learnt shortlist (numpy).

    Attributes:
        candidates: int32 [source_vocab_size, per_word], each source token's
            most associated target tokens (`vocab.EOS_ID` where it has fewer).
        always: int32 [F], sorted: the special tokens and the most frequent
            target tokens, candidates of every request.
    """

    candidates: np.ndarray
    always: np.ndarray


def batch_counts(pairs, source_tokenizer, target_tokenizer, batch_size=4096):
    """Per-batch co-occurrence counts of a parallel corpus, computed in parallel by `tf.data`.

    Args:
        pairs: `tf.data.Dataset` of `{"source": string [], "target": string []}`.
        source_tokenizer: the model's source tokenizer (`tokenizer.from_model_dir`).
        target_tokenizer: the model's target tokenizer.
        batch_size: sentence pairs per batch.

    Returns:
        A `tf.data.Dataset` of `(keys int64 [U], counts int64 [U], source
        int64 [source_vocab_size], target int64 [target_vocab_size])` per
        batch, as in `CooccurrenceCounts` (keys sorted). Pairs with an
        empty side are left out.
    """
    source_size, target_size = source_tokenizer.vocab_size, target_tokenizer.vocab_size

    def count_batch(batch):
        source = source_tokenizer.tokenize(batch["source"])
        target = target_tokenizer.tokenize(batch["target"])
        kept = (source.row_lengths() > 0) & (target.row_lengths() > 0)
        source = _distinct_per_row(tf.ragged.boolean_mask(source, kept), source_size)
        target = _distinct_per_row(tf.ragged.boolean_mask(target, kept), target_size)
        partners = tf.gather(target, source.value_rowids())  # [source tokens, None]
        keys = tf.repeat(source.flat_values, partners.row_lengths()) * target_size + partners.flat_values
        keys, _, counts = tf.unique_with_counts(keys, out_idx=tf.int64)
        order = tf.argsort(keys)  # Sorted here, in parallel, so the host merges sorted runs.
        return (tf.gather(keys, order), tf.gather(counts, order), tf.math.bincount(source.flat_values, minlength=source_size, dtype=tf.int64),
                tf.math.bincount(target.flat_values, minlength=target_size, dtype=tf.int64))

    return pairs.batch(batch_size).map(count_batch, num_parallel_calls=tf.data.AUTOTUNE)


def _distinct_per_row(ids, size):
    """Each row's distinct ids, sorted: `tf.RaggedTensor` int32 [B, None] -> int64 [B, None]."""
    keys = tf.unique(tf.cast(ids.value_rowids(), tf.int64) * size + tf.cast(ids.flat_values, tf.int64)).y
    keys = tf.sort(keys)
    return tf.RaggedTensor.from_value_rowids(keys % size, keys // size, nrows=ids.nrows(), validate=False)


def count(batches, max_pairs=MAX_PAIRS):
    """Sums the per-batch counts of `batch_counts` on the host, in bounded memory.

    Batches are merged a few million pairs at a time: their sorted runs are
    merged (numpy's stable sort merges runs) and equal keys summed. When
    more than `max_pairs` distinct pairs remain, every pair whose count is at
    most that of the `max_pairs // 2 + 1`-th most frequent is dropped, and
    the counts may be short by at most the sum of those cuts.

    Args:
        batches: the dataset `batch_counts` returns.
        max_pairs: distinct pairs kept before the rarest are pruned.

    Returns:
        A `CooccurrenceCounts`.
    """
    keys, counts = np.zeros([0], np.int64), np.zeros([0], np.int64)
    source = target = None
    pending, pending_size, max_undercount = [], 0, 0
    for batch_keys, batch_counts_, batch_source, batch_target in batches.prefetch(2).as_numpy_iterator():
        source = batch_source if source is None else source + batch_source
        target = batch_target if target is None else target + batch_target
        pending.append((batch_keys, batch_counts_))
        pending_size += batch_keys.size
        if pending_size > max(max_pairs // 2, keys.size):
            keys, counts = _merge([(keys, counts)] + pending)
            pending, pending_size = [], 0
            keys, counts, cut = _prune(keys, counts, max_pairs)
            max_undercount += cut
    if source is None:
        raise Seq2SeqError("no training pairs to learn a shortlist from")
    keys, counts = _merge([(keys, counts)] + pending)
    keys, counts, cut = _prune(keys, counts, max_pairs)
    return CooccurrenceCounts(keys, counts, source, target, max_undercount + cut)


def _merge(parts):
    """Sorted distinct keys and summed counts of several `(keys, counts)` arrays, each sorted."""
    keys = np.concatenate([k for k, _ in parts])
    order = np.argsort(keys, kind="stable")  # Timsort: merges the sorted runs in O(n log runs).
    keys, counts = keys[order], np.concatenate([c for _, c in parts])[order]
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    return keys[starts], np.add.reduceat(counts, starts) if keys.size else counts


def _prune(keys, counts, max_pairs):
    """Drops the rarest pairs when there are more than `max_pairs`; returns (keys, counts, cut)."""
    if keys.size <= max_pairs:
        return keys, counts, 0
    cut = int(np.partition(counts, keys.size - (max_pairs // 2 + 1))[keys.size - (max_pairs // 2 + 1)])
    kept = counts > cut
    return keys[kept], counts[kept], cut


def select(counts, per_word, frequent):
    """The shortlist of each source token from co-occurrence counts.

    Args:
        counts: a `CooccurrenceCounts`.
        per_word: candidates per source token, by Dice coefficient (ties to the lower id).
        frequent: how many of the most frequent target tokens are always candidates.

    Returns:
        A `Shortlist`.

    Examples:

    ```python
    counts = CooccurrenceCounts(  # Source token 4 appears with target 5 twice, with 6 once.
        keys=np.array([4 * 8 + 5, 4 * 8 + 6]), counts=np.array([2, 1]),
        source=np.array([0, 0, 0, 0, 2, 0]), target=np.array([0, 0, 0, 0, 0, 2, 3, 0]))
    shortlist = select(counts, per_word=1, frequent=0)
    shortlist.candidates[4]  # [5]
    shortlist.always  # [0, 1, 2, 3]: the special tokens.
    ```
    """
    target_size = counts.target.size
    by_frequency = np.argsort(-counts.target[len(_SPECIAL_IDS):], kind="stable") + len(_SPECIAL_IDS)
    always = np.sort(np.concatenate([_SPECIAL_IDS, by_frequency[:frequent].astype(np.int32)]))
    source_ids, target_ids = counts.keys // target_size, counts.keys % target_size
    ranked = ~np.isin(target_ids, always)
    source_ids, target_ids, pair_counts = source_ids[ranked], target_ids[ranked], counts.counts[ranked]
    dice = 2.0 * pair_counts / (counts.source[source_ids] + counts.target[target_ids])
    order = np.lexsort((target_ids, -dice, source_ids))
    source_ids, target_ids = source_ids[order], target_ids[order]
    rank = np.arange(source_ids.size) - np.searchsorted(source_ids, source_ids)
    kept = rank < per_word
    candidates = np.full([counts.source.size, per_word], vocab.EOS_ID, np.int32)
    candidates[source_ids[kept], rank[kept]] = target_ids[kept]
    return Shortlist(candidates, always)


def vocabulary(candidates, always, source_ids):
    """The target ids a batch may produce: sorted, distinct, the special tokens first.

    Args:
        candidates: int32 [source_vocab_size, per_word] (`Shortlist.candidates`).
        always: int32 [F] (`Shortlist.always`).
        source_ids: int32 [B, S], the batch's source tokens (padding allowed).

    Returns:
        int32 [K]: sorted target ids, `ids[i] == i` for the special tokens.

    Examples:

    ```python
    candidates = tf.constant([[3, 3], [3, 3], [3, 3], [3, 3], [9, 7], [8, 3]])
    vocabulary(candidates, tf.constant([0, 1, 2, 3, 5]), tf.constant([[4, 0]]))
    # [0, 1, 2, 3, 5, 7, 9]
    ```
    """
    rows = tf.gather(candidates, tf.reshape(source_ids, [-1]))
    return tf.sort(tf.unique(tf.concat([always, tf.reshape(rows, [-1])], 0)).y)


def restrict(weights, ids):
    """Decoder weights (`decode_step.DecodeWeights`) restricted to the target tokens `ids` int32 [K].

    The embeddings keep rows `ids` and the softmax columns `ids`: a search over
    them sees token `i` as the vocabulary's `ids[i]`.
    """
    kernel, bias = weights.projection
    return weights._replace(
        embeddings=tf.gather(weights.embeddings, ids),
        projection=(tf.gather(kernel, ids, axis=1), tf.gather(bias, ids)),
    )


def for_model_dir(config, model_dir, per_word, frequent, max_pairs=MAX_PAIRS):
    """The shortlist of a model directory, learnt from its training split.

    The co-occurrence counts are kept in `MODEL_DIR/shortlist_counts.npz`, so
    later exports (with other sizes too) skip the pass over the corpus; they
    are counted again if the corpus or the vocabularies changed.

    Args:
        config: the model's `config.Config` (corpus, tokenizer, line limits).
        model_dir: the model directory (vocabularies; the counts are saved there).
        per_word: candidates per source token.
        frequent: most frequent target tokens always in.
        max_pairs: distinct pairs counted before the rarest are pruned.

    Returns:
        A `Shortlist`.
    """
    path = os.path.join(model_dir, COUNTS_FILE)
    source_tokenizer, target_tokenizer = tokenizer_lib.from_model_dir(model_dir, config.tokenizer)
    provenance = _provenance(config, source_tokenizer, target_tokenizer)
    counts = _read_counts(path, provenance)
    if counts is None:
        logging.info("Learning the vocabulary shortlist from %s split %r (one pass over the split)",
                     config.dataset, config.train_split)
        counts = count(batch_counts(corpus.training_pairs(config), source_tokenizer, target_tokenizer),
                       max_pairs)
        if counts.max_undercount:
            logging.warning("More distinct word pairs than the shortlist table holds (%d): the rarest "
                            "were pruned, so pair counts may be short by up to %d",
                            max_pairs, counts.max_undercount)
        _write_counts(path, counts, provenance)
    return select(counts, per_word, frequent)


def _provenance(config, source_tokenizer, target_tokenizer):
    """A digest of what the counts were counted from: corpus, tokenizer and vocabularies."""
    text = repr((config.dataset, config.data_dir, config.train_split, config.tokenizer,
                 vocab.read(source_tokenizer.vocab_path), vocab.read(target_tokenizer.vocab_path)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_counts(path, provenance):
    """The counts saved at `path`, or None if missing or counted from something else."""
    if not os.path.exists(path):
        return None
    with np.load(path) as saved:
        if str(saved["provenance"]) != provenance:
            logging.info("%s was counted from another corpus or vocabulary: counting again", path)
            return None
        return CooccurrenceCounts(*(saved[name] for name in ("keys", "counts", "source", "target")),
                                  int(saved["max_undercount"]))


def _write_counts(path, counts, provenance):
    """Saves the counts atomically (a temporary file renamed into place)."""
    temporary = path + ".tmp.npz"
    np.savez(temporary, provenance=np.array(provenance), **dataclasses.asdict(counts))
    os.replace(temporary, path)
