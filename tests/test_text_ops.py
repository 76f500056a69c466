"""tensorflow-text's ops loaded on their own: the same results, and word models never import all of it."""

import os

import pytest
import tensorflow as tf
import tensorflow_text as tf_text

from tests.conftest import run_python
from tf_seq2seq import text_ops, tokenizer

TESTS = os.path.dirname(os.path.abspath(__file__))
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


def test_word_models_train_export_and_serve_without_importing_tensorflow_text(tiny_corpus, tmp_path):
    code = f"""
import sys
sys.path.insert(0, {os.path.dirname(TESTS)!r})
import tensorflow as tf
from tests.conftest import tiny_config
from tf_seq2seq import serving, training
config = tiny_config({tiny_corpus!r}, train_steps=2)
training.train(config, {str(tmp_path / "model")!r})
path = serving.export_model_dir(config, {str(tmp_path / "model")!r}, {str(tmp_path / "export")!r})
loaded = serving.load(path)
translations = loaded.signatures["serving_default"](sentences=tf.constant(["I am cold."]))["translations"]
print("imported:", sorted(name for name in sys.modules if name.startswith("tensorflow_text")))
import tensorflow_text  # Loading the same op libraries again works.
print(tensorflow_text.regex_split(tf.constant(["a b"]), " ", "").to_list(), translations.shape)
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert "imported: []" in lines
    assert lines[-1] == "[[b'a', b'b']] (1,)"
