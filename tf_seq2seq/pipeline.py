"""`tf.data` transforms from sentence pairs to padded, bucketed training batches.

Each public function returns a transform for `dataset.apply`, or is a tensor
function used both here and by the exported model (`encode_source`), so
training and serving see the same ids. The source side is reversed *in the
graph* (the paper's trick) after truncation; padding always stays on the
right, which keeps masks valid for the cuDNN LSTM kernel.
"""


import tensorflow as tf

from tf_seq2seq import vocab

_TOKENIZE_BATCH = 1024
# Where a training pair comes from in the endless stream (`shuffle_passes`).
POSITION_KEYS = ("pass", "index")


def encode_source(tokenizer, sentences, reverse, max_length=None):
    """Source sentences to encoder ids (`tokenize`, then `prepare_source`).

    Args:
        tokenizer: the source language's tokenizer (`tokenizer.from_model_dir`).
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
        tokenizer: the target language's tokenizer (`tokenizer.from_model_dir`).
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


def tokenize(source_tokenizer, target_tokenizer, reverse_source, max_lengths=None):
    """Transform: `{"source", "target"}` strings -> id sequences, one pair per element.

    Tokenizes in batches of sentences for speed, then unbatches; order is kept.

    Args:
        source_tokenizer: the source language's tokenizer.
        target_tokenizer: the target language's tokenizer.
        reverse_source: whether to reverse each source sentence's ids.
        max_lengths: `(max_source_length, max_target_length)` (`length_limits`)
            to drop the pairs with an empty side or a side over its limit
            (`_within_limits`), in the batches before unbatching (cheaper than
            a filter of every pair), or None to keep all.

    Returns:
        A transform producing `{"source": int32 [S], "target_in": int32 [T],
        "target_out": int32 [T]}`, plus the `POSITION_KEYS` of pairs that have them.
    """

    # tf.data would convert `encode` and all it calls (our tokenizers,
    # tensorflow-text's wrappers) with AutoGraph at each trace, re-parsing their
    # source: ~1 CPU-second of a run's start-up. It has no Python control flow
    # on tensors, so the graph is the same without.
    @tf.autograph.experimental.do_not_convert
    def encode(batch):
        target_in, target_out = encode_target(target_tokenizer, batch["target"])
        pairs = {
            **{name: batch[name] for name in POSITION_KEYS if name in batch},
            "source": encode_source(source_tokenizer, batch["source"], reverse_source),
            "target_in": target_in,
            "target_out": target_out,
        }
        if max_lengths is None:
            return pairs
        kept = _within_limits(pairs["source"].row_lengths(), pairs["target_out"].row_lengths(), *max_lengths)
        return {name: tf.ragged.boolean_mask(value, kept) for name, value in pairs.items()}

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


def _within_limits(source_length, target_out_length, max_source_length, max_target_length):
    """Whether pairs are kept: no empty side, no side over its length limit.

    Target length counts the `<eos>` label, so a target of `max_target_length`
    words or fewer is kept.

    Args:
        source_length: int [...], source ids per pair.
        target_out_length: int [...], target labels per pair (`<eos>` included).
        max_source_length: int.
        max_target_length: int.

    Returns:
        bool [...].
    """
    target_length = target_out_length - 1
    return (
        (source_length > 0)
        & (target_length > 0)
        & (source_length <= max_source_length)
        & (target_length <= max_target_length)
    )


def length_limits(config):
    """`(max_source_length, max_target_length)` of a `config.Config`, `tokenize`'s `max_lengths`."""
    return config.max_source_length, config.max_target_length


def any_pair_kept(pairs, source_tokenizer, target_tokenizer, config):
    """Whether any pair is non-empty and within the length limits of `config`.

    Reads only until the first such pair (usually the first pair), or the
    whole of `pairs` if there is none.

    Args:
        pairs: finite `tf.data.Dataset` of `{"source": string [], "target": string []}`.
        source_tokenizer: the source language's tokenizer.
        target_tokenizer: the target language's tokenizer.
        config: a `config.Config` (`max_source_length`, `max_target_length`,
            `reverse_source`).

    Returns:
        bool.
    """
    kept = pairs.apply(
        tokenize(source_tokenizer, target_tokenizer, config.reverse_source, length_limits(config))
    ).take(1)
    return any(True for _ in kept)


def bucket_by_length(batch_size, max_length, bucket_width=1, batch_tokens=0):
    """Transform: batches pairs of similar length, padding only to the batch's longest.

    The paper made all sentences in a minibatch roughly the same length for a
    2x speed-up; here a pair's length is the longer of its two sides. Buckets
    one token wide leave only the shorter side of a pair padded: on Multi30k
    (batch 64), 5-token buckets padded 18% of the source+target positions of a
    step, 1-token buckets 9% (`bench/input_pipeline.py`). Training uses
    `--bucket_width` (`settings.BUCKET_WIDTH` by default).

    Args:
        batch_size: sentences per batch (when `batch_tokens` is 0).
        max_length: the longest pair length that can occur.
        bucket_width: length range covered by each bucket.
        batch_tokens: if > 0, each bucket's batch holds as many pairs as fit
            in this many padded tokens per side (at least one pair), so no
            batch has more than `batch_tokens` source or target positions.

    Returns:
        A transform producing `({"source": int32 [B, S], "target_in": int32
        [B, T]}, target_out int32 [B, T])`, padded with `vocab.PAD_ID`; the
        `POSITION_KEYS` of pairs that have them go into the features as int32 [B].
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
        features = {name: value for name, value in batch.items() if name != "target_out"}
        return features, batch["target_out"]

    def transform(dataset):
        return dataset.bucket_by_sequence_length(
            length,
            bucket_boundaries=boundaries,
            bucket_batch_sizes=batch_sizes,
            padding_values=vocab.PAD_ID,
        ).map(to_features_and_labels, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    return transform


def shuffle_passes(buffer_size, seed):
    """Transform: endless passes over the data, each shuffled differently, each pair numbered.

    The shuffle buffer is bounded (it is saved in input-pipeline checkpoints)
    and the order depends only on `seed`. Each pair gets `"pass"` (which pass
    over the data it comes from) and `"index"` (its place in that pass), int32
    scalars: the training loop counts epochs from the pairs it trained on, so
    a run stops where its flags say and can always be extended (the stream
    never ends). Without a known cardinality `"pass"` stays 0.
    """

    def transform(dataset):
        size = int(dataset.cardinality())
        size = size if size > 0 else 2**31 - 1

        def number(counts, pairs):
            positions = {"pass": tf.cast(counts // size, tf.int32), "index": tf.cast(counts % size, tf.int32)}
            return {**pairs, **positions}

        passes = dataset.shuffle(buffer_size, seed=seed, reshuffle_each_iteration=True).repeat()
        # Numbered in batches: a function call per pair would cost more than the numbering.
        return passes.enumerate().batch(_TOKENIZE_BATCH).map(number).unbatch()

    return transform


def shard_size(total, shard):
    """Shard `shard = (index, count)`'s part of `total` (the parts sum to `total`)."""
    index, count = shard
    return total * (index + 1) // count - total * index // count


def training_batches(pairs, source_tokenizer, target_tokenizer, config, shard=(0, 1)):
    """The whole training input pipeline, or one shard of it.

    Args:
        pairs: `tf.data.Dataset` of `{"source": string [], "target": string []}`.
        source_tokenizer: the source language's tokenizer (`tokenizer.from_model_dir`).
        target_tokenizer: the target language's tokenizer.
        config: a `config.Config`.
        shard: `(index, count)`: every worker of a cluster shuffles the same
            seeded stream of sentence pairs, keeps every `count`-th pair from
            the `index`-th on, and tokenizes and batches only those, in
            batches of its `shard_size` of `config.batch_size` (or
            `batch_tokens`): the global batch of a step is the union of the
            workers' batches.

    Returns:
        An endless `tf.data.Dataset` of `({"source": int32 [B, S], "target_in":
        int32 [B, T], "pass": int32 [B], "index": int32 [B]}, target_out int32
        [B, T])`, B this shard's share of the global batch (`shuffle_passes`
        numbers the pairs); each local replica trains on its slice of every batch.

    Examples:

    ```python
    from tf_seq2seq import config, corpus, pipeline, tokenizer

    settings = config.Config(batch_size=32)
    source, target = tokenizer.from_model_dir("runs/demo", settings.tokenizer)
    pairs = corpus.training_pairs(settings)
    features, target_out = next(iter(pipeline.training_batches(pairs, source, target, settings)))
    features["source"]  # int32 [32, S], reversed and right-padded.
    ```
    """
    stream = pairs.apply(shuffle_passes(config.shuffle_buffer, config.seed))
    if shard[1] > 1:
        stream = stream.shard(shard[1], shard[0])
    return (
        stream.apply(tokenize(source_tokenizer, target_tokenizer, config.reverse_source, length_limits(config)))
        .apply(
            bucket_by_length(
                shard_size(config.batch_size, shard),
                max(length_limits(config)) + 1,
                bucket_width=config.bucket_width,
                batch_tokens=shard_size(config.batch_tokens, shard),
            )
        )
        .prefetch(tf.data.AUTOTUNE)
    )
