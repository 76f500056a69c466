"""`tf.data` transforms from sentence pairs to padded, bucketed training batches.

Each public function returns a transform for `dataset.apply`, or is a tensor
function used both here and by the exported model (`encode_source`), so
training and serving see the same ids. The source side is reversed *in the
graph* (the paper's trick) after truncation; padding always stays on the
right, which keeps masks valid for the cuDNN LSTM kernel.
"""

import math

import tensorflow as tf

from tf_seq2seq import vocab

_TOKENIZE_BATCH = 1024


def encode_source(tokenizer, sentences, reverse, max_length=None):
    """Source sentences to encoder ids (`tokenize`, then `prepare_source`).

    Args:
        tokenizer: a `tokenizer.WordTokenizer` for the source language.
        sentences: string [batch].
        reverse: whether to reverse each sentence's ids (the paper's trick).
        max_length: keep at most this many leading tokens (before reversal),
            or None to keep all.

    Returns:
        `tf.RaggedTensor` int32 [batch, None].
    """
    return prepare_source(tokenizer.tokenize(sentences), reverse, max_length)


def prepare_source(ids, reverse, max_length=None):
    """Truncates, then (optionally) reverses source ids.

    Args:
        ids: `tf.RaggedTensor` int32 [batch, None] from the source tokenizer.
        reverse: whether to reverse each sentence's ids.
        max_length: keep at most this many leading tokens, or None to keep all.

    Returns:
        `tf.RaggedTensor` int32 [batch, None].
    """
    if max_length is not None:
        ids = ids[:, :max_length]
    return tf.reverse(ids, axis=[1]) if reverse else ids


def encode_target(tokenizer, sentences):
    """Target sentences to decoder inputs and labels (teacher forcing).

    Args:
        tokenizer: a `tokenizer.WordTokenizer` for the target language.
        sentences: string [batch].

    Returns:
        `(target_in, target_out)`, `tf.RaggedTensor`s int32 [batch, None]:
        `<bos> w1 .. wn` and `w1 .. wn <eos>`.
    """
    ids = tokenizer.tokenize(sentences)
    batch = ids.nrows()
    bos = tf.fill([batch, 1], vocab.BOS_ID)
    eos = tf.fill([batch, 1], vocab.EOS_ID)
    return tf.concat([bos, ids], axis=1), tf.concat([ids, eos], axis=1)


def tokenize(source_tokenizer, target_tokenizer, reverse_source):
    """Transform: `{"source", "target"}` strings -> id sequences, one pair per element.

    Tokenizes in batches of sentences for speed, then unbatches; order is kept.

    Returns:
        A transform producing `{"source": int32 [S], "target_in": int32 [T],
        "target_out": int32 [T]}`.
    """

    def encode(batch):
        target_in, target_out = encode_target(target_tokenizer, batch["target"])
        return {
            "source": encode_source(source_tokenizer, batch["source"], reverse_source),
            "target_in": target_in,
            "target_out": target_out,
        }

    def transform(dataset):
        return (
            dataset.batch(_TOKENIZE_BATCH)
            .map(encode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .unbatch()
            # Unbatched ragged rows are rank-0-ragged specs; mapping them
            # through a function turns them into dense 1-D tensors.
            .map(lambda example: example)
        )

    return transform


def filter_by_length(max_source_length, max_target_length):
    """Transform: drops pairs with an empty side or a side over its length limit.

    Target length counts the `<eos>` label, so a target of `max_target_length`
    words or fewer is kept.
    """

    def keep(example):
        source_length = tf.size(example["source"])
        target_length = tf.size(example["target_out"]) - 1
        return (
            (source_length > 0)
            & (target_length > 0)
            & (source_length <= max_source_length)
            & (target_length <= max_target_length)
        )

    return lambda dataset: dataset.filter(keep)


def count_dropped(pairs, split_fn, max_source_length, max_target_length, batch_size=4096):
    """Counts the pairs that `filter_by_length` drops, by word count (one pass).

    Args:
        pairs: `tf.data.Dataset` of `{"source": string [], "target": string []}`.
        split_fn: string [batch] -> ragged string tokens (`tokenizer.split_words`).
        max_source_length: the source length limit.
        max_target_length: the target length limit.
        batch_size: sentences split per call.

    Returns:
        `(dropped, total)` ints. With subword tokenizers, lengths in pieces are
        longer than in words, so more pairs may be dropped than counted here.
    """

    def dropped(batch):
        source = split_fn(batch["source"]).row_lengths()
        target = split_fn(batch["target"]).row_lengths()
        drop = (source == 0) | (target == 0)
        drop |= (source > max_source_length) | (target > max_target_length)
        return tf.reduce_sum(tf.cast(drop, tf.int64)), tf.size(drop, out_type=tf.int64)

    counts = pairs.batch(batch_size).map(dropped, num_parallel_calls=tf.data.AUTOTUNE)
    totals = counts.reduce((tf.constant(0, tf.int64), tf.constant(0, tf.int64)),
                           lambda acc, c: (acc[0] + c[0], acc[1] + c[1]))
    return int(totals[0]), int(totals[1])


def bucket_by_length(batch_size, max_length, bucket_width=1, batch_tokens=0):
    """Transform: batches pairs of similar length, padding only to the batch's longest.

    The paper made all sentences in a minibatch roughly the same length for a
    2x speed-up; here a pair's length is the longer of its two sides. Buckets
    one token wide (the default) leave only the shorter side of a pair padded:
    on Multi30k (batch 64), 5-token buckets padded 18% of the source+target
    positions of a step, 1-token buckets 9% (`bench/input_pipeline.py`).

    Args:
        batch_size: sentences per batch (when `batch_tokens` is 0).
        max_length: the longest pair length that can occur.
        bucket_width: length range covered by each bucket.
        batch_tokens: if > 0, each bucket's batch holds as many pairs as fit
            in this many padded tokens per side (at least one pair), so no
            batch has more than `batch_tokens` source or target positions.

    Returns:
        A transform producing `({"source": int32 [B, S], "target_in": int32
        [B, T]}, target_out int32 [B, T])`, padded with `vocab.PAD_ID`.
    """
    boundaries = list(range(bucket_width + 1, max_length + 2, bucket_width))
    if batch_tokens > 0:
        # Longest pair in each bucket: boundaries are exclusive upper limits.
        longest = [b - 1 for b in boundaries] + [max_length]
        batch_sizes = [max(1, batch_tokens // n) for n in longest]
    else:
        batch_sizes = [batch_size] * (len(boundaries) + 1)

    def length(example):
        return tf.maximum(tf.size(example["source"]), tf.size(example["target_in"]))

    def to_features_and_labels(batch):
        return {"source": batch["source"], "target_in": batch["target_in"]}, batch["target_out"]

    def transform(dataset):
        return dataset.bucket_by_sequence_length(
            length,
            bucket_boundaries=boundaries,
            bucket_batch_sizes=batch_sizes,
            padding_values=vocab.PAD_ID,
        ).map(to_features_and_labels, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    return transform


def shuffle_epochs(epochs, buffer_size, seed):
    """Transform: `ceil(epochs)` passes over the data, each shuffled differently.

    The shuffle buffer is bounded (it is saved in input-pipeline checkpoints)
    and the order depends only on `seed`.
    """
    return lambda dataset: dataset.shuffle(
        buffer_size, seed=seed, reshuffle_each_iteration=True
    ).repeat(math.ceil(epochs))


def training_batches(pairs, source_tokenizer, target_tokenizer, config):
    """The whole training input pipeline.

    Args:
        pairs: `tf.data.Dataset` of `{"source": string [], "target": string []}`.
        source_tokenizer: `tokenizer.WordTokenizer` for the source language.
        target_tokenizer: `tokenizer.WordTokenizer` for the target language.
        config: a `config.Config`.

    Returns:
        A `tf.data.Dataset` of `({"source": int32 [B, S], "target_in": int32
        [B, T]}, target_out int32 [B, T])` covering `ceil(config.epochs)` epochs,
        B the global batch. Every worker of a cluster builds the same stream
        (seeded shuffling); each replica trains on its slice of every batch.
    """
    return (
        pairs.apply(shuffle_epochs(config.epochs, config.shuffle_buffer, config.seed))
        .apply(tokenize(source_tokenizer, target_tokenizer, config.reverse_source))
        .apply(filter_by_length(config.max_source_length, config.max_target_length))
        .apply(
            bucket_by_length(
                config.batch_size,
                max(config.max_source_length, config.max_target_length) + 1,
                batch_tokens=config.batch_tokens,
            )
        )
        .prefetch(tf.data.AUTOTUNE)
    )
