"""tensorflow-text's ops loaded on their own: the same results, and our models never import all of it."""

import pytest
import tensorflow as tf
import tensorflow_text as tf_text

from tf_seq2seq import corpus, text_ops, tokenizer, vocab
from tf_seq2seq import model_dir as model_dir_lib

from helpers import run_client, tiny_config

HARD_TEXT = [
    "Tom, are you okay?", "", "   ", "ﬁ ﬂ Ｆｕｌｌ ½ café", "L'été 2019... était chaud !",
    "a\u202fb\u00a0c\td", "▁x ▁ y", "日本語のテキスト、です。", "x" * 300,
]


def test_normalize_utf8_matches_tensorflow_text():
    text = tf.constant(HARD_TEXT)
    for form in ("NFC", "NFKC", "NFD", "NFKD"):
        assert text_ops.normalize_utf8(text, form).numpy().tolist() == tf_text.normalize_utf8(text, form).numpy().tolist()


@pytest.mark.parametrize("delimiter, keep", [(tokenizer._TOKEN, tokenizer._TOKEN), (r"\s+|,", ","), (r"\s", "")])
def test_regex_split_matches_tensorflow_text(delimiter, keep):
    text = tokenizer.normalize(tf.constant(HARD_TEXT))
    ours = text_ops.regex_split(text, delimiter, keep)
    assert ours.to_list() == tf_text.regex_split(text, delimiter, keep).to_list()
    assert ours.shape.rank == 2 and ours.row_splits.dtype == tf.int64


def test_regex_split_works_in_a_graph_on_an_unknown_batch():
    split = tf.function(lambda text: text_ops.regex_split(text, r"\s", ""),
                        input_signature=[tf.TensorSpec([None], tf.string)])
    assert split(tf.constant(["a b", "", "c"])).to_list() == [[b"a", b"b"], [], [b"c"]]


def tensorflow_texts_wordpiece(pieces):
    """tensorflow-text's own tokenizer of the wordpiece vocabulary `pieces`, as `WordpieceTokenizer` used it."""
    return tf_text.FastWordpieceTokenizer(pieces, suffix_indicator=tokenizer.SUFFIX, unknown_token=vocab.UNK,
                                          no_pretokenization=True, token_out_type=tf.int32)


def test_wordpiece_tokenize_matches_tensorflow_texts_tokenizer(french_wordpiece):
    _, pieces, _ = french_wordpiece
    theirs = tensorflow_texts_wordpiece(pieces)
    words = tokenizer.split_words(tf.constant(HARD_TEXT + ["é" * 49, "é" * 51])).flat_values  # 98, 102 bytes.
    ours = text_ops.wordpiece_tokenize(words, text_ops.wordpiece_model(pieces, tokenizer.SUFFIX, vocab.UNK))
    assert ours.to_list() == theirs.tokenize(words).to_list()
    assert ours.values.dtype == tf.int32 and ours.row_splits.dtype == tf.int64


def test_wordpiece_tokenizer_cuts_each_sentence_as_tensorflow_text_did(french_wordpiece):
    words, pieces, _ = french_wordpiece
    sample = [pair["target"].numpy().decode() for pair in corpus.load("sample", "test", "en", "fr").take(300)]
    sentences = tf.constant(HARD_TEXT + sample)
    expected = tensorflow_texts_wordpiece(pieces).tokenize(tokenizer.split_words(sentences)).merge_dims(1, 2)
    assert words.tokenize(sentences).to_list() == expected.to_list()


@pytest.mark.parametrize("kind", ["word", "wordpiece"])
def test_models_train_export_and_serve_without_importing_tensorflow_text(tiny_corpus, tmp_path, kind):
    # The vocabularies first, here: learning wordpieces uses tensorflow-text's learner.
    config = tiny_config(tiny_corpus, train_steps=2, tokenizer=kind)
    model_dir_lib.prepare_model_dir(config, str(tmp_path / "model"), corpus.training_pairs(config))
    result = run_client("train_export_serve", tiny_corpus, tmp_path / "model", tmp_path / "export", kind)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    # Only the wordpiece model builder, on its own: not the package.
    builder = ["tensorflow_text.core.pybinds.pywrap_fast_wordpiece_tokenizer_model_builder"]
    assert f"imported: {builder if kind == 'wordpiece' else []}" in lines
    assert lines[-1] == "[[b'a', b'b']] (1,)"
