"""Word counts of a parallel corpus: exact against Python's, bounded when pruned."""

import collections

import tensorflow as tf

from tf_seq2seq import tokenizer, vocab, word_counts


def test_counting_in_batches_gives_the_vocabulary_of_python_counts_of_split_words():
    from tf_seq2seq import corpus

    pairs = corpus.load("sample", "train", "en", "fr").take(3000)
    expected = collections.Counter()
    for batch in pairs.batch(1000):
        expected.update(t.decode() for t in tokenizer.split_words(batch["target"]).flat_values.numpy())
    counts = word_counts.count(pairs, tokenizer.count_words, 50, 50, batch_size=700)
    assert vocab.build(counts, 10, 500, "word")[1] == vocab.most_frequent(expected, 500)
    assert counts.target.most_common(10**6) == dict(expected)


def test_counting_prunes_the_rarest_words_to_stay_within_max_tokens():
    sentences = [f"common w{i % 40} v{i}" for i in range(200)]
    pairs = tf.data.Dataset.from_tensor_slices({"source": sentences, "target": sentences})
    counts = word_counts.count(pairs, tokenizer.count_words, 9, 9, batch_size=10, max_tokens=30)
    kept = counts.source.most_common(10**6)
    assert len(kept) <= 30 + 21  # The bound, plus one batch's distinct words before pruning.
    expected = collections.Counter(word for s in sentences for word in ("▁" + s).replace(" ", " ▁").split())
    assert 0 < counts.max_undercount < 200
    assert all(expected[t] - counts.max_undercount <= n <= expected[t] for t, n in kept.items())
    assert kept["▁common"] == 200  # Never pruned: exact.
