"""Word tokenization in the graph: splitting, vocabularies, ids and back."""

import collections

import pytest
import tensorflow as tf

from tf_seq2seq import tokenizer, vocab
from tf_seq2seq.errors import Seq2SeqError


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


def test_most_frequent_ranks_by_count_then_text_and_caps_size():
    counts = collections.Counter({"b": 3, "a": 3, "c": 5, "d": 1})
    assert vocab.most_frequent(counts, 7) == list(vocab.SPECIALS) + ["c", "a", "b"]
    with pytest.raises(Seq2SeqError, match="vocabulary size 4"):
        vocab.most_frequent(counts, 4)


def test_build_counts_both_sides_of_a_corpus():
    pairs = tf.data.Dataset.from_tensor_slices(
        {"source": ["a b a", "a c"], "target": ["x y", "y y z"]}
    )
    source, target = vocab.build(pairs, tokenizer.split_words, 6, 10, "word")
    assert source == list(vocab.SPECIALS) + ["▁a", "▁b"]
    assert target == list(vocab.SPECIALS) + ["▁y", "▁x", "▁z"]


def test_tokenize_detokenize_round_trip_with_unknown_words(tmp_path):
    path = str(tmp_path / "vocab.txt")
    vocab.write(path, list(vocab.SPECIALS) + ["▁Tom", "▁est", "▁là", "."])
    words = tokenizer.WordTokenizer(path)
    ids = words.tokenize(tf.constant(["Tom est là.", "Tom est ici."]))
    assert ids.to_list() == [[4, 5, 6, 7], [4, 5, vocab.UNK_ID, 7]]
    padded = tf.constant([[4, 5, 6, 7, vocab.EOS_ID, 0], [vocab.BOS_ID, 4, 5, 1, 7, 0]])
    assert texts(words.detokenize(padded)) == ["Tom est là.", "Tom est <unk>."]


def test_read_rejects_a_file_without_special_tokens(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("hello\n", encoding="utf-8")
    with pytest.raises(Seq2SeqError, match="special tokens"):
        vocab.read(str(path))


@pytest.fixture(scope="module")
def french_wordpiece(tmp_path_factory):
    """A WordPiece tokenizer learnt from 5,000 French sentences of the bundled sample."""
    from tf_seq2seq import corpus

    pairs = corpus.load("sample", "train", "en", "fr").take(5000)
    _, target = vocab.build(pairs, tokenizer.split_words, 200, 1000, "wordpiece")
    path = str(tmp_path_factory.mktemp("wordpiece") / "fr.txt")
    vocab.write(path, target)
    return tokenizer.WordpieceTokenizer(path), target


def test_wordpiece_vocabulary_has_specials_characters_and_suffixes(french_wordpiece):
    _, tokens = french_wordpiece
    assert tokens[: len(vocab.SPECIALS)] == list(vocab.SPECIALS)
    assert 900 <= len(tokens) <= 1000
    assert {"é", "##é", "."} <= set(tokens)
    assert any(t.startswith("##") and len(t) > 3 for t in tokens)  # Multi-character pieces.


@pytest.mark.parametrize(
    "sentence",
    ["Je déteste ce film.", "Où est mon chien ?", "Qu'est-ce que c'est ?", "Anticonstitutionnellement !",
     "Nous aimons les chats, pas toi ?"],
)
def test_wordpiece_round_trips_ordinary_sentences_exactly(french_wordpiece, sentence):
    words, _ = french_wordpiece
    ids = words.tokenize(tf.constant([sentence]))
    assert vocab.UNK_ID not in ids.flat_values.numpy()
    assert texts(words.detokenize(ids)) == [sentence]
    # Rare words are cut into several pieces rather than becoming <unk>.
    if sentence.startswith("Anti"):
        assert ids.row_lengths().numpy()[0] > 3
