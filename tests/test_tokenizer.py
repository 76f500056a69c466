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


def test_build_counts_both_sides_of_a_corpus_and_the_pairs_too_long_or_empty():
    pairs = tf.data.Dataset.from_tensor_slices(
        {"source": ["a b a", "a c", "a", "b"], "target": ["x y", "y y z", " ", "x y z w"]}
    )
    counts = vocab.count(pairs, tokenizer.count_words, 3, 3)
    source, target = vocab.build(counts, 6, 10, "word")
    assert source == list(vocab.SPECIALS) + ["▁a", "▁b"]
    assert target == list(vocab.SPECIALS) + ["▁y", "▁x", "▁z", "▁w"]
    assert (counts.pairs, counts.dropped, counts.max_undercount) == (4, 2, 0)


TRICKY = ["Tom, are you okay?", "Va\u202f!", "", "  a \t b\u00a0! ", b"x\xffy", "▁", "▁a ▁ b",
          "ﬁn de l'été ２０１９...", "a\vb", "\u0301abc  e\u0301", "x \u00a0 y", "!!!", "Tom, are you okay?"]


def test_count_words_counts_exactly_what_split_words_splits():
    sentences = tf.constant(TRICKY)
    tokens, counts, lengths = tokenizer.count_words(sentences)
    split = tokenizer.split_words(sentences)
    assert dict(zip(tokens.numpy(), counts.numpy())) == collections.Counter(split.flat_values.numpy())
    assert lengths.numpy().tolist() == split.row_lengths().numpy().tolist()


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
    counts = vocab.count(pairs, tokenizer.count_words, 50, 50)
    _, target = vocab.build(counts, 200, 1000, "wordpiece")
    path = str(tmp_path_factory.mktemp("wordpiece") / "fr.txt")
    vocab.write(path, target)
    return tokenizer.WordpieceTokenizer(path), target, counts.target


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
