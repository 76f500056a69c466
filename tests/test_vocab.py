"""Vocabularies: counting a corpus in batches, ranking, WordPiece learning, the vocabulary file."""

import collections
import os

import pytest
import tensorflow as tf

from tf_seq2seq import tokenizer, vocab, word_counts
from tf_seq2seq.errors import Seq2SeqError

from helpers import tiny_config


def test_most_frequent_ranks_by_count_then_text_and_caps_size():
    counts = collections.Counter({"b": 3, "a": 3, "c": 5, "d": 1})
    assert vocab.most_frequent(counts, 7) == list(vocab.SPECIALS) + ["c", "a", "b"]
    with pytest.raises(Seq2SeqError, match="vocabulary size 4"):
        vocab.most_frequent(counts, 4)


def test_build_counts_both_sides_of_a_corpus_and_the_pairs_too_long_or_empty():
    pairs = tf.data.Dataset.from_tensor_slices(
        {"source": ["a b a", "a c", "a", "b"], "target": ["x y", "y y z", " ", "x y z w"]}
    )
    counts = word_counts.count(pairs, tokenizer.count_words, 3, 3)
    source, target = vocab.build(counts, 6, 10, "word")
    assert source == list(vocab.SPECIALS) + ["▁a", "▁b"]
    assert target == list(vocab.SPECIALS) + ["▁y", "▁x", "▁z", "▁w"]
    assert (counts.pairs, counts.dropped, counts.max_undercount) == (4, 2, 0)


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


def test_a_run_counts_its_sample_of_the_training_pairs_and_writes_both_vocabularies(tiny_corpus, tmp_path):
    from tf_seq2seq import corpus

    config = tiny_config(tiny_corpus, vocab_sample_size=3, source_vocab_size=6, target_vocab_size=7)
    counts = vocab.count_training_pairs(corpus.training_pairs(config), tokenizer.count_words, config)
    assert counts.pairs == 3
    vocab.write_for_model_dir(counts, config, str(tmp_path))
    source, target = (vocab.read(path) for path in vocab.paths(str(tmp_path)))
    assert (source, target) == tuple(vocab.build(counts, 6, 7, "word"))
    assert (len(source), len(target)) == (6, 7)
