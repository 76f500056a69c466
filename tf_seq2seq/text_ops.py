"""The tensorflow-text ops our graphs use, loaded without the rest of tensorflow-text.

`import tensorflow_text` loads every one of its ~30 op libraries, which adds
~120 MB to a process's resident memory (each library is ~4.5 MB once
loaded). Our tokenizers use three of its ops: `NormalizeUTF8`,
`RegexSplitWithOffsets` and, for wordpiece models, `FastWordpieceTokenizeWithOffsets`.
This module loads only their libraries (`tf.load_op_library`), from the
installed tensorflow-text package, so training, evaluation and serving
processes carry ~15 MB instead. The graph ops are tensorflow-text's own, so
exported models are unchanged for TF Serving, and `import tensorflow_text`
later in the same process still works (a library loaded twice is loaded once).

Building a wordpiece tokenizer still imports tensorflow-text: its
`FastWordpieceTokenizer` compiles the vocabulary in Python.

Examples:

>>> words = regex_split(normalize_utf8(tf.constant(["ﬁne, thanks"]), "NFKC"), r"\\s+|,", ",")
>>> words.to_list()
[[b'fine', b',', b'thanks']]
"""

import functools
import importlib.util
import os

import tensorflow as tf

# Op library file (under tensorflow_text/python/ops/) -> the ops we use from it.
LIBRARIES = {
    "_normalize_ops.so": ("NormalizeUTF8",),
    "_regex_split_ops.so": ("RegexSplitWithOffsets",),
    "_fast_wordpiece_tokenizer.so": ("FastWordpieceTokenizeWithOffsets",),
}


@functools.cache
def _library(filename):
    """Loads one of tensorflow-text's op libraries (once per process); returns its op module."""
    package = importlib.util.find_spec("tensorflow_text")  # Finds it without importing it.
    if package is None:
        raise ImportError("tensorflow-text is not installed: pip install tensorflow-text")
    return tf.load_op_library(os.path.join(package.submodule_search_locations[0], "python", "ops", filename))


def register():
    """Registers every tensorflow-text op an exported model may use, so it can be loaded."""
    for filename in LIBRARIES:
        _library(filename)


def normalize_utf8(text, form):
    """Unicode normalization (tensorflow-text's `NormalizeUTF8` op).

    Args:
        text: string [batch], valid UTF-8.
        form: "NFC", "NFKC", "NFD" or "NFKD".

    Returns:
        string [batch].
    """
    return _library("_normalize_ops.so").normalize_utf8(text, form)


def regex_split(text, delimiter, keep_delimiter):
    """Splits each string where `delimiter` matches (tensorflow-text's `RegexSplitWithOffsets` op).

    Args:
        text: string [batch].
        delimiter: RE2 pattern of the delimiters.
        keep_delimiter: RE2 pattern of the delimiters kept as tokens.

    Returns:
        `tf.RaggedTensor` string [batch, None]: the pieces between delimiters
        and the kept delimiters, in order; no empty pieces.
    """
    tokens, _, _, row_splits = _library("_regex_split_ops.so").regex_split_with_offsets(
        text, f"({delimiter})", f"({keep_delimiter})"
    )
    return tf.RaggedTensor.from_row_splits(tokens, row_splits, validate=False)
