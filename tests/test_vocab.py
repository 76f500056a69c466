"""Vocabularies: counting a corpus in batches, ranking, WordPiece learning, the vocabulary file."""

import collections
import os

import pytest
import tensorflow as tf

from tf_seq2seq import tokenizer, vocab
from tf_seq2seq.errors import Seq2SeqError


def test_most_frequent_ranks_by_count_then_text_and_caps_size():
    counts = collections.Counter({"b": 3, "a": 3, "c": 5, "d": 1})
    assert vocab.most_frequent(counts, 7) == list(vocab.SPECIALS) + ["c", "a", "b"]
    with pytest.raises(Seq2SeqError, match="vocabulary size 4"):
        vocab.most_frequent(counts, 4)


def test_build_counts_both_sides_of_a_corpus_and_the_pairs_too_long_or_empty():
    pairs = tf.data.Dataset.from_tensor_slices(
        {"source": ["a b a", "a c", "a", "b"], "target": ["x y", "y y z", " ", "x y z w"]}
    )
    counts = vocab.count(pairs, tokenizer.count_words, 3, 3)
    source, target = vocab.build(counts, 6, 10, "word")
    assert source == list(vocab.SPECIALS) + ["▁a", "▁b"]
    assert target == list(vocab.SPECIALS) + ["▁y", "▁x", "▁z", "▁w"]
    assert (counts.pairs, counts.dropped, counts.max_undercount) == (4, 2, 0)


def test_counting_in_batches_gives_the_vocabulary_of_python_counts_of_split_words():
    from tf_seq2seq import corpus

    pairs = corpus.load("sample", "train", "en", "fr").take(3000)
    expected = collections.Counter()
    for batch in pairs.batch(1000):
        expected.update(t.decode() for t in tokenizer.split_words(batch["target"]).flat_values.numpy())
    counts = vocab.count(pairs, tokenizer.count_words, 50, 50, batch_size=700)
    assert vocab.build(counts, 10, 500, "word")[1] == vocab.most_frequent(expected, 500)
    assert counts.target.most_common(10**6) == dict(expected)


def test_counting_prunes_the_rarest_words_to_stay_within_max_tokens():
    sentences = [f"common w{i % 40} v{i}" for i in range(200)]
    pairs = tf.data.Dataset.from_tensor_slices({"source": sentences, "target": sentences})
    counts = vocab.count(pairs, tokenizer.count_words, 9, 9, batch_size=10, max_tokens=30)
    kept = counts.source.most_common(10**6)
    assert len(kept) <= 30 + 21  # The bound, plus one batch's distinct words before pruning.
    expected = collections.Counter(word for s in sentences for word in ("▁" + s).replace(" ", " ▁").split())
    assert 0 < counts.max_undercount < 200
    assert all(expected[t] - counts.max_undercount <= n <= expected[t] for t, n in kept.items())
    assert kept["▁common"] == 200  # Never pruned: exact.


def test_read_rejects_a_file_without_special_tokens(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("hello\n", encoding="utf-8")
    with pytest.raises(Seq2SeqError, match="special tokens"):
        vocab.read(str(path))


@pytest.mark.parametrize("size", [400, 1500])
def test_wordpiece_vocabulary_has_exactly_the_requested_size(french_wordpiece, size):
    _, _, counts = french_wordpiece
    tokens = vocab.learn_wordpiece(counts, size)
    assert len(tokens) == len(set(tokens)) == size
    characters = {t for t in french_wordpiece[1] if len(t.removeprefix("##")) == 1}
    assert characters <= set(tokens)  # Every word stays spellable.


def test_wordpiece_size_too_small_for_the_characters_is_an_error(french_wordpiece):
    with pytest.raises(Seq2SeqError, match="cannot hold the 4 special tokens"):
        vocab.learn_wordpiece(french_wordpiece[2], 20)


def test_wordpiece_vocabulary_has_specials_characters_and_suffixes(french_wordpiece):
    _, tokens, _ = french_wordpiece
    assert tokens[: len(vocab.SPECIALS)] == list(vocab.SPECIALS)
    assert len(tokens) == 1000
    assert {"é", "##é", "."} <= set(tokens)
    assert any(t.startswith("##") and len(t) > 3 for t in tokens)  # Multi-character pieces.


def test_write_then_read_round_trips_one_token_a_line(tmp_path):
    tokens = list(vocab.SPECIALS) + ["▁chat", "##s", "é", "."]
    path = tmp_path / "vocab.txt"
    vocab.write(str(path), tokens)
    assert path.read_text(encoding="utf-8") == "".join(t + "\n" for t in tokens)
    assert vocab.read(str(path)) == tokens


def test_special_tokens_have_the_ids_the_model_uses():
    assert vocab.SPECIALS[vocab.PAD_ID] == "<pad>" and vocab.SPECIALS[vocab.UNK_ID] == "<unk>"
    assert vocab.SPECIALS[vocab.BOS_ID] == "<bos>" and vocab.SPECIALS[vocab.EOS_ID] == "<eos>"
    assert vocab.PAD_ID == 0  # Padding is id 0: masks are `ids != 0`.


def test_a_model_directory_keeps_one_vocabulary_file_per_side(trained_model_dir):
    source_path, target_path = vocab.paths(trained_model_dir)
    assert os.path.dirname(source_path) == os.path.dirname(target_path) == os.path.join(trained_model_dir, "vocab")
    assert source_path != target_path
    source, target = vocab.read(source_path), vocab.read(target_path)
    assert source[: len(vocab.SPECIALS)] == target[: len(vocab.SPECIALS)] == list(vocab.SPECIALS)
    assert "▁Tom" in source and "▁Tom" in target and "▁Nous" in target and "▁Nous" not in source
