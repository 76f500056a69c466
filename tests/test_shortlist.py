"""Vocabulary shortlists: learning them, and searching with them as exactly as can be."""

import collections
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import corpus, shortlist, vocab, word_counts
from tf_seq2seq import tokenizer as tokenizer_lib
from tf_seq2seq import loading
from tf_seq2seq import translator as translator_lib

from helpers import SOURCES

SENTENCES = SOURCES + ["Unknown words here.", ""]


def brute_force_counts(pairs, source_tokenizer, target_tokenizer):
    """Sentence-level co-occurrence counts computed pair by pair in Python."""
    pairs_counts, source, target = collections.Counter(), collections.Counter(), collections.Counter()
    for en, fr in pairs:
        source_ids = set(source_tokenizer.tokenize(tf.constant([en])).flat_values.numpy().tolist())
        target_ids = set(target_tokenizer.tokenize(tf.constant([fr])).flat_values.numpy().tolist())
        if not source_ids or not target_ids:
            continue
        source.update(source_ids)
        target.update(target_ids)
        pairs_counts.update((s, t) for s in source_ids for t in target_ids)
    return pairs_counts, source, target


@pytest.fixture(scope="module")
def sample_tokenizers(tmp_path_factory):
    """Word tokenizers of the bundled sample's first 2,000 pairs, and those pairs."""
    pairs = [(p["source"].decode(), p["target"].decode())
             for p in corpus.load("sample", "train", "en", "fr").take(2000).as_numpy_iterator()]
    pairs.append(("", "Rien."))  # Pairs with an empty side are not counted.
    directory = tmp_path_factory.mktemp("sample_vocab")
    counts = word_counts.count(tf.data.Dataset.from_tensor_slices(
        {"source": [en for en, _ in pairs], "target": [fr for _, fr in pairs]}), tokenizer_lib.count_words, 50, 50)
    paths = []
    for side, size in ((counts.source, 300), (counts.target, 400)):
        paths.append(str(directory / f"{len(paths)}.txt"))
        vocab.write(paths[-1], vocab.most_frequent(side.most_common(size), size))
    return tokenizer_lib.WordTokenizer(paths[0]), tokenizer_lib.WordTokenizer(paths[1]), pairs


def dataset(pairs):
    return tf.data.Dataset.from_tensor_slices({"source": [en for en, _ in pairs], "target": [fr for _, fr in pairs]})


def test_counts_equal_a_pair_by_pair_count(sample_tokenizers):
    source_tokenizer, target_tokenizer, pairs = sample_tokenizers
    counts = shortlist.count(shortlist.batch_counts(dataset(pairs), source_tokenizer, target_tokenizer, 256))
    expected, source, target = brute_force_counts(pairs, source_tokenizer, target_tokenizer)
    size = target_tokenizer.vocab_size
    assert dict(zip(counts.keys.tolist(), counts.counts.tolist())) == {
        s * size + t: n for (s, t), n in expected.items()
    }
    assert list(counts.keys) == sorted(counts.keys)
    assert counts.source.tolist() == [source[i] for i in range(source_tokenizer.vocab_size)]
    assert counts.target.tolist() == [target[i] for i in range(size)]
    assert counts.max_undercount == 0


def test_pruned_counts_stay_within_the_table_and_the_undercount_bound(sample_tokenizers):
    source_tokenizer, target_tokenizer, pairs = sample_tokenizers
    counts = shortlist.count(shortlist.batch_counts(dataset(pairs), source_tokenizer, target_tokenizer, 64),
                             max_pairs=2000)
    expected, _, _ = brute_force_counts(pairs, source_tokenizer, target_tokenizer)
    size = target_tokenizer.vocab_size
    assert 0 < counts.keys.size <= 2000 < len(expected)
    assert counts.max_undercount > 0
    for key, value in zip(counts.keys.tolist(), counts.counts.tolist()):
        true = expected[(key // size, key % size)]
        assert true - counts.max_undercount <= value <= true


def test_select_ranks_by_dice_and_leaves_the_frequent_words_to_the_always_list():
    # Source 4 co-occurs with targets 4 (the most frequent), 5 (twice, frequent
    # otherwise too) and 6 (once, only with it).
    target_size = 8
    counts = shortlist.CooccurrenceCounts(
        keys=np.array([4 * target_size + 4, 4 * target_size + 5, 4 * target_size + 6]),
        counts=np.array([3, 2, 1]),
        source=np.array([0, 0, 0, 0, 3]),
        target=np.array([0, 0, 0, 0, 9, 8, 1, 0]),
    )
    chosen = shortlist.select(counts, per_word=2, frequent=1)
    assert chosen.always.tolist() == [0, 1, 2, 3, 4]
    # Dice: 6 scores 2 * 1 / (3 + 1) = 0.5, 5 scores 2 * 2 / (3 + 8) = 0.36.
    assert chosen.candidates[4].tolist() == [6, 5]
    assert chosen.candidates[0].tolist() == [vocab.EOS_ID, vocab.EOS_ID]  # No pairs: nothing added.


def test_vocabulary_is_sorted_and_holds_the_specials_the_frequent_and_each_words_candidates():
    candidates = tf.constant(np.random.default_rng(0).integers(4, 50, size=[30, 3]), tf.int32)
    always = tf.constant([0, 1, 2, 3, 7, 9])
    source_ids = tf.constant([[5, 6, 0], [29, 0, 0]])
    ids = shortlist.vocabulary(candidates, always, source_ids).numpy()
    expected = {0, 1, 2, 3, 7, 9} | set(candidates.numpy()[[5, 6, 0, 29]].ravel())
    assert ids.tolist() == sorted(expected)
    assert ids[: len(vocab.SPECIALS)].tolist() == list(range(len(vocab.SPECIALS)))


def whole_vocabulary(translator):
    """A shortlist whose every source token lists every target token: it restricts nothing."""
    target_size = translator.target_tokenizer.vocab_size
    candidates = np.tile(np.arange(target_size, dtype=np.int32), [translator.source_tokenizer.vocab_size, 1])
    return shortlist.Shortlist(candidates, np.arange(len(vocab.SPECIALS), dtype=np.int32))


def translators(model_dirs, chosen):
    """`(without, with)`: translators of the model directories without a shortlist and with `chosen`."""
    config = config_lib.load(model_dirs[0])
    full, _ = loading.from_model_dirs(config, model_dirs)
    shortlisted = translator_lib.Translator(full.members, full.source_tokenizer, full.target_tokenizer,
                                            config, shortlist=chosen(full) if callable(chosen) else chosen)
    return full, shortlisted


def search(translator, **kwargs):
    outputs = translator.search(tf.constant(SENTENCES), 3, 3, **kwargs)
    return [[t.decode() for t in row] for row in outputs["translations"].numpy()], outputs["scores"].numpy()


def assert_same_search(translator, other, **kwargs):
    texts, scores = search(translator, **kwargs)
    other_texts, other_scores = search(other)
    assert texts == other_texts
    np.testing.assert_allclose(scores, other_scores, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("members", ["single", "ensemble", "attention"])
def test_a_shortlist_of_every_word_searches_exactly_as_the_full_softmax(members, trained_model_dir,
                                                                      attention_model_dir):
    model_dirs = {"single": [trained_model_dir], "ensemble": [trained_model_dir, attention_model_dir],
                  "attention": [attention_model_dir]}[members]
    full, shortlisted = translators(model_dirs, whole_vocabulary)
    assert_same_search(shortlisted, full)


def test_with_no_probability_outside_the_shortlist_the_search_equals_the_full_one(trained_model_dir):
    config = config_lib.load(trained_model_dir)
    tokenizers = tokenizer_lib.from_model_dir(trained_model_dir, config.tokenizer)
    chosen = shortlist.select(shortlist.count(shortlist.batch_counts(corpus.training_pairs(config), *tokenizers)),
                              per_word=3, frequent=2)
    full, shortlisted = translators([trained_model_dir], chosen)
    # One sentence per search, each with its own shortlist.
    sentence = tf.constant([SENTENCES[6]])
    source_ids = shortlisted.encode(sentence).source_ids
    ids = shortlist.vocabulary(chosen.candidates, chosen.always, source_ids).numpy()
    assert ids.size < full.target_tokenizer.vocab_size
    projection = full.members[0].projection
    saved = projection.bias.numpy()
    outside = np.ones_like(saved, bool)
    outside[ids] = False
    projection.bias.assign(np.where(outside, -1e9, saved))  # exp(-1e9) is 0: no mass outside.
    try:
        expected = full.search(sentence, 3, 3)
        found = shortlisted.search(sentence, 3, 3)
    finally:
        projection.bias.assign(saved)
    assert found["translations"].numpy().tolist() == expected["translations"].numpy().tolist()
    np.testing.assert_allclose(found["scores"].numpy(), expected["scores"].numpy(), rtol=1e-5)


def test_shortlisted_outputs_use_only_the_shortlist_and_end_with_eos(trained_model_dir):
    def only_word_4(full):  # Every source word proposes target word 4 only.
        return shortlist.Shortlist(np.full([full.source_tokenizer.vocab_size, 2], 4, np.int32),
                                   np.arange(4, dtype=np.int32))

    full, shortlisted = translators([trained_model_dir], only_word_4)
    texts, scores = search(shortlisted)
    for sentence, row in zip(SENTENCES, texts):
        ids = full.target_tokenizer.tokenize(tf.constant(row)).flat_values.numpy()
        assert set(ids.tolist()) <= {4, vocab.UNK_ID}, (sentence, row)
    assert np.all(np.isfinite(scores[:-1]))  # Every non-empty sentence found finished hypotheses.


def test_the_counts_are_kept_in_the_model_dir_and_counted_again_for_another_corpus(
        trained_model_dir, tiny_corpus, tmp_path):
    model_dir = str(tmp_path / "model")
    shutil.copytree(trained_model_dir, model_dir)
    corpus_dir = str(tmp_path / "corpus")
    shutil.copytree(tiny_corpus, corpus_dir)
    config = config_lib.load(model_dir).replace(dataset=f"files:{corpus_dir}")
    first = shortlist.for_model_dir(config, model_dir, 4, 3)
    assert os.path.exists(os.path.join(model_dir, shortlist.COUNTS_FILE))
    os.remove(os.path.join(corpus_dir, "train.en"))  # A second export reads the saved counts only.
    again = shortlist.for_model_dir(config, model_dir, 4, 3)
    np.testing.assert_array_equal(again.candidates, first.candidates)
    other_dir = str(tmp_path / "other")
    os.makedirs(other_dir)
    for lang in ("en", "fr"):
        shutil.copy(os.path.join(tiny_corpus, f"train.{lang}"), os.path.join(other_dir, f"train.{lang}"))
    with open(os.path.join(other_dir, "train.en"), "a", encoding="utf-8") as f:
        f.write("Tom\n")
    with open(os.path.join(other_dir, "train.fr"), "a", encoding="utf-8") as f:
        f.write("chats\n")
    recounted = shortlist.for_model_dir(config.replace(dataset=f"files:{other_dir}"), model_dir, 4, 3)
    source_tokenizer, target_tokenizer = tokenizer_lib.from_model_dir(model_dir, config.tokenizer)
    tom = int(source_tokenizer.tokenize(tf.constant(["Tom"])).flat_values[0])
    cats = int(target_tokenizer.tokenize(tf.constant(["chats"])).flat_values[0])
    assert cats in recounted.candidates[tom] and cats not in first.candidates[tom]
