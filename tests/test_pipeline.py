"""The tf.data pipeline: in-graph reversal, teacher-forcing targets, filtering, bucketing."""

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import pipeline, tokenizer, vocab

from helpers import tiny_config

WORDS = ["▁a", "▁b", "▁c", "▁d", "▁e", "."]


def make_tokenizer(tmp_path):
    path = str(tmp_path / "vocab.txt")
    vocab.write(path, list(vocab.SPECIALS) + WORDS)
    return tokenizer.WordTokenizer(path)


def test_encode_source_reverses_ids_and_keeps_padding_right(tmp_path):
    words = make_tokenizer(tmp_path)
    sentences = tf.constant(["a b c.", "d e"])
    forward = pipeline.encode_source(words, sentences, reverse=False)
    reverse = pipeline.encode_source(words, sentences, reverse=True)
    assert forward.to_list() == [[4, 5, 6, 9], [7, 8]]
    assert reverse.to_list() == [[9, 6, 5, 4], [8, 7]]
    assert reverse.to_tensor().numpy().tolist() == [[9, 6, 5, 4], [8, 7, 0, 0]]


def test_encode_source_truncates_before_reversing(tmp_path):
    ids = pipeline.encode_source(make_tokenizer(tmp_path), tf.constant(["a b c d"]), True, 2)
    assert ids.to_list() == [[5, 4]]


def test_encode_target_adds_bos_and_eos(tmp_path):
    target_in, target_out = pipeline.encode_target(make_tokenizer(tmp_path), tf.constant(["a b"]))
    assert target_in.to_list() == [[vocab.BOS_ID, 4, 5]]
    assert target_out.to_list() == [[4, 5, vocab.EOS_ID]]


def pairs_dataset(sources, targets):
    return tf.data.Dataset.from_tensor_slices({"source": sources, "target": targets})


def test_tokenize_with_length_limits_drops_empty_and_long_pairs(tmp_path):
    words = make_tokenizer(tmp_path)
    pairs = pairs_dataset(["a b", "", "a b c d e", "c"], ["a", "b", "c", "a b c d"])
    examples = list(pairs.apply(pipeline.tokenize(words, words, True, max_lengths=(4, 3))).as_numpy_iterator())
    assert [e["source"].tolist() for e in examples] == [[5, 4]]
    assert examples[0]["target_in"].tolist() == [vocab.BOS_ID, 4]
    assert examples[0]["target_out"].tolist() == [4, vocab.EOS_ID]


def test_tokenize_with_length_limits_keeps_the_pairs_within_them_unchanged_and_in_order(tmp_path):
    words = make_tokenizer(tmp_path)
    lengths = [(2, 1), (0, 2), (5, 1), (1, 4), (4, 3), (3, 0), (4, 4), (1, 1)] * 3
    pairs = pairs_dataset(
        [" ".join("abcde"[i % 5] for i in range(s)) for s, _ in lengths],
        [" ".join("edcba"[i % 5] for i in range(t)) for _, t in lengths],
    ).enumerate().map(lambda i, pair: {**pair, "index": tf.cast(i, tf.int32)})
    everything = list(pairs.apply(pipeline.tokenize(words, words, reverse_source=True)).as_numpy_iterator())
    limited = list(pairs.apply(pipeline.tokenize(words, words, True, max_lengths=(4, 3))).as_numpy_iterator())
    # Non-empty sides of at most 4 source and 3 target words.
    kept = [i for i, (s, t) in enumerate(lengths) if 0 < s <= 4 and 0 < t <= 3]
    assert kept == [0, 4, 7, 8, 12, 15, 16, 20, 23]
    assert [e["index"] for e in limited] == kept
    for mine, theirs in zip(limited, [everything[i] for i in kept]):
        assert {name: value.tolist() for name, value in mine.items()} == {
            name: value.tolist() for name, value in theirs.items()
        }


@pytest.mark.parametrize("kind", ["word", "wordpiece"])
def test_tokenize_in_tf_data_gives_the_ids_of_eager_tokenization(tmp_path, kind):
    # tf.data traces the tokenizers without AutoGraph: the ids must be those of eager calls.
    path = str(tmp_path / "vocab.txt")
    pieces = [vocab.SUFFIX + w.lstrip("▁") for w in WORDS] if kind == "wordpiece" else []
    vocab.write(path, list(vocab.SPECIALS) + WORDS + pieces)
    words = tokenizer.WordpieceTokenizer(path) if kind == "wordpiece" else tokenizer.WordTokenizer(path)
    sources = ["a  b\tc.", "ab, é d", "", "e" * 3 + " a"]
    targets = ["d e a", "c", "b b.", "xa e"]
    examples = list(pairs_dataset(sources, targets).apply(pipeline.tokenize(words, words, True)).as_numpy_iterator())
    source = pipeline.encode_source(words, tf.constant(sources), reverse=True).to_list()
    target_in, target_out = pipeline.encode_target(words, tf.constant(targets))
    assert [e["source"].tolist() for e in examples] == source
    assert [e["target_in"].tolist() for e in examples] == target_in.to_list()
    assert [e["target_out"].tolist() for e in examples] == target_out.to_list()


def test_buckets_group_similar_lengths_and_pad_only_to_the_batch(tmp_path):
    words = make_tokenizer(tmp_path)
    sentences = [" ".join(["a"] * n) for n in [1, 9, 2, 8, 1, 9, 3, 7]]
    batches = list(
        pairs_dataset(sentences, sentences)
        .apply(pipeline.tokenize(words, words, reverse_source=False))
        .apply(pipeline.bucket_by_length(batch_size=2, max_length=12, bucket_width=5))
        .as_numpy_iterator()
    )
    assert sum(len(labels) for _, labels in batches) == len(sentences)
    for features, labels in batches:
        lengths = (features["source"] != 0).sum(axis=1)
        # Pair length is len + 1 (<bos>/<eos>); each batch stays in one bucket.
        assert len({(n + 1 - 1) // 5 for n in lengths}) == 1
        assert features["target_in"].shape[1] == max(lengths) + 1
        assert np.all((labels != 0).sum(axis=1) == lengths + 1)


def test_training_batches_are_deterministic_for_a_seed(tiny_corpus, tmp_path):
    from tf_seq2seq import corpus

    words = make_tokenizer(tmp_path)
    config = tiny_config(tiny_corpus, epochs=2, batch_size=3)

    def first_batches(seed):
        pairs = corpus.load(config.dataset, "train", "en", "fr")
        dataset = pipeline.training_batches(pairs, words, words, config.replace(seed=seed))
        return [f["source"].tolist() for f, _ in dataset.take(4).as_numpy_iterator()]

    assert first_batches(1) == first_batches(1)
    assert first_batches(1) != first_batches(2)


def test_training_batches_hold_pairs_of_one_bucket_width(tiny_corpus, tmp_path):
    from tf_seq2seq import corpus

    words = make_tokenizer(tmp_path)
    pairs = corpus.load(f"files:{tiny_corpus}", "train", "en", "fr")
    spans = {}
    for width in (1, 3):
        config = tiny_config(tiny_corpus, batch_size=4, bucket_width=width)
        spans[width] = []
        for features, _ in pipeline.training_batches(pairs, words, words, config).take(40).as_numpy_iterator():
            # A pair's length: the longer side, <bos> included on the target side.
            lengths = np.maximum((features["source"] != 0).sum(1), (features["target_in"] != 0).sum(1))
            assert len({(n - 1) // width for n in lengths}) == 1, (width, lengths)
            spans[width].append(lengths.max() - lengths.min())
    assert max(spans[1]) == 0 and max(spans[3]) > 0


def test_token_batches_never_exceed_batch_tokens(tmp_path):
    words = make_tokenizer(tmp_path)
    lengths = [1, 2, 3, 4, 6, 8, 9, 12, 14, 3, 2, 7, 11, 13, 5, 1] * 4
    sentences = [" ".join(["a"] * n) for n in lengths]
    batches = list(
        pairs_dataset(sentences, sentences)
        .apply(pipeline.tokenize(words, words, reverse_source=False))
        .apply(pipeline.bucket_by_length(batch_size=0, max_length=16, bucket_width=5, batch_tokens=24))
        .as_numpy_iterator()
    )
    assert sum(len(labels) for _, labels in batches) == len(sentences)
    assert max(len(labels) for _, labels in batches) > 2  # Short pairs share batches.
    for features, labels in batches:
        assert features["source"].size <= 24 and features["target_in"].size <= 24
        assert labels.size <= 24


def test_input_shards_split_every_epoch_and_the_global_batch_between_workers(tiny_corpus, tmp_path):
    from tf_seq2seq import corpus

    words = make_tokenizer(tmp_path)
    config = tiny_config(tiny_corpus, epochs=3, batch_size=5, shuffle_buffer=3)
    pairs = corpus.load(config.dataset, "train", "en", "fr")

    def sources(shard):
        """The shard's batches until it has read its part of 3 passes (the stream is endless)."""
        wanted, rows, batches = pipeline.shard_size(3 * 8, shard), [], []
        for features, _ in pipeline.training_batches(pairs, words, words, config, shard).as_numpy_iterator():
            batches.append(features["source"])
            rows += [tuple(row[row != 0]) for row, n in zip(features["source"], features["pass"]) if n < 3]
            if len(rows) == wanted:
                return batches, sorted(rows)

    whole_batches, whole = sources((0, 1))
    (first_batches, first), (second_batches, second) = sources((0, 2)), sources((1, 2))
    assert sorted(first + second) == whole  # Together the shards read each epoch once.
    assert first and second and len(whole) == 3 * 8
    assert max(map(len, whole_batches)) == 5
    assert max(map(len, first_batches)) == 2 and max(map(len, second_batches)) == 3
    assert pipeline.shard_size(5, (0, 2)) + pipeline.shard_size(5, (1, 2)) == 5


@pytest.mark.parametrize("known_size", [True, False])
def test_shuffle_passes_numbers_every_pair_by_pass_and_place(known_size):
    items = tf.data.Dataset.range(7).map(lambda i: {"source": tf.strings.as_string(i)})
    if not known_size:
        items = items.filter(lambda pair: True)  # Cardinality unknown: "pass" stays 0.
    stream = list(items.apply(pipeline.shuffle_passes(buffer_size=4, seed=3)).take(21).as_numpy_iterator())
    passes = [[int(pair["source"]) for pair in stream[start:start + 7]] for start in (0, 7, 14)]
    assert all(sorted(one) == list(range(7)) for one in passes)
    assert len({tuple(one) for one in passes}) > 1  # Each pass is shuffled anew.
    expected = [(n // 7, n % 7) if known_size else (0, n) for n in range(21)]
    assert [(pair["pass"], pair["index"]) for pair in stream] == expected
