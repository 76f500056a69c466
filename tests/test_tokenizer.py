"""Tokenization in the graph: splitting words, text to ids and back (word and WordPiece)."""

import collections

import pytest
import tensorflow as tf

from tf_seq2seq import tokenizer, vocab


def texts(tensor):
    return [t.decode("utf-8") for t in tensor.numpy()]


def test_split_marks_words_after_spaces_and_separates_punctuation():
    tokens = tokenizer.split_words(tf.constant(["Tom, are you okay?", "Va\u202f!", ""]))
    assert tokens.to_list() == [
        [t.encode() for t in ["▁Tom", ",", "▁are", "▁you", "▁okay", "?"]],
        [t.encode() for t in ["▁Va", "▁!"]],
        [],
    ]


@pytest.mark.parametrize(
    "sentence",
    ["Tom, are you okay?", "Qu'est-ce que c'est ?", "L'été 2019 était chaud...", "Ça va, Zoë !"],
)
def test_join_inverts_split(sentence):
    tokens = tokenizer.split_words(tf.constant([sentence]))
    assert texts(tokenizer.join_words(tokens)) == [sentence]


def test_tatoeba_no_break_spaces_before_punctuation_become_plain_word_boundaries():
    tokens = tokenizer.split_words(tf.constant(["J'ai besoin de vacances\u202f!", "Quoi\u00a0?"]))
    assert tokens.to_list()[0][-1] == "▁!".encode() and tokens.to_list()[1] == [b"\xe2\x96\x81Quoi", "▁?".encode()]


def test_normalize_collapses_whitespace_and_repairs_utf8():
    normalized = texts(tokenizer.normalize(tf.constant(["  a \t b\u00a0! ", b"x\xffy", "▁"])))
    assert normalized[0] == "a b !"
    assert normalized[1] == "x\ufffdy"
    assert normalized[2] == "_"


TRICKY = ["Tom, are you okay?", "Va\u202f!", "", "  a \t b\u00a0! ", b"x\xffy", "▁", "▁a ▁ b",
          "ﬁn de l'été ２０１９...", "a\vb", "\u0301abc  e\u0301", "x \u00a0 y", "!!!", "Tom, are you okay?"]


def test_count_words_counts_exactly_what_split_words_splits():
    sentences = tf.constant(TRICKY)
    tokens, counts, lengths = tokenizer.count_words(sentences)
    split = tokenizer.split_words(sentences)
    assert dict(zip(tokens.numpy(), counts.numpy())) == collections.Counter(split.flat_values.numpy())
    assert lengths.numpy().tolist() == split.row_lengths().numpy().tolist()


def test_tokenize_detokenize_round_trip_with_unknown_words(tmp_path):
    path = str(tmp_path / "vocab.txt")
    vocab.write(path, list(vocab.SPECIALS) + ["▁Tom", "▁est", "▁là", "."])
    words = tokenizer.WordTokenizer(path)
    ids = words.tokenize(tf.constant(["Tom est là.", "Tom est ici."]))
    assert ids.to_list() == [[4, 5, 6, 7], [4, 5, vocab.UNK_ID, 7]]
    padded = tf.constant([[4, 5, 6, 7, vocab.EOS_ID, 0], [vocab.BOS_ID, 4, 5, 1, 7, 0]])
    assert texts(words.detokenize(padded)) == ["Tom est là.", "Tom est <unk>."]


@pytest.mark.parametrize(
    "sentence",
    ["Je déteste ce film.", "Où est mon chien ?", "Qu'est-ce que c'est ?", "Anticonstitutionnellement !",
     "Nous aimons les chats, pas toi ?"],
)
def test_wordpiece_round_trips_ordinary_sentences_exactly(french_wordpiece, sentence):
    words, _, _ = french_wordpiece
    ids = words.tokenize(tf.constant([sentence]))
    assert vocab.UNK_ID not in ids.flat_values.numpy()
    assert texts(words.detokenize(ids)) == [sentence]
    # Rare words are cut into several pieces rather than becoming <unk>.
    if sentence.startswith("Anti"):
        assert ids.row_lengths().numpy()[0] > 3
