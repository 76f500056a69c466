"""The tensorflow-text ops our graphs use, loaded without the rest of tensorflow-text.

`import tensorflow_text` loads every one of its ~30 op libraries, which adds
~120 MB to a process's resident memory (each library is ~4.5 MB once
loaded). Our tokenizers use three of its ops: `NormalizeUTF8`,
`RegexSplitWithOffsets` and, for wordpiece models, `FastWordpieceTokenizeWithOffsets`.
This module loads only their libraries (`tf.load_op_library`), from the
installed tensorflow-text package, so training, evaluation and serving
processes carry ~15 MB instead. A wordpiece vocabulary is compiled into the
op's model by tensorflow-text's own builder (a Python extension, loaded here
on its own, ~10 MB). The graph ops are tensorflow-text's own, so exported
models are unchanged for TF Serving, and `import tensorflow_text` later in the
same process still works (a library loaded twice is loaded once).

Examples:

>>> words = regex_split(normalize_utf8(tf.constant(["ﬁne, thanks"]), "NFKC"), r"\\s+|,", ",")
>>> words.to_list()
[[b'fine', b',', b'thanks']]
"""

import functools
import importlib.util
import os
import sys

import numpy as np
import tensorflow as tf

# Op library file (under tensorflow_text/python/ops/) -> the ops we use from it.
LIBRARIES = {
    "_normalize_ops.so": ("NormalizeUTF8",),
    "_regex_split_ops.so": ("RegexSplitWithOffsets",),
    "_fast_wordpiece_tokenizer.so": ("FastWordpieceTokenizeWithOffsets",),
}


# tensorflow-text's Python extension that compiles a wordpiece vocabulary (under tensorflow_text/core/pybinds/).
_WORDPIECE_MODEL_BUILDER = "pywrap_fast_wordpiece_tokenizer_model_builder"
# The longest word (in UTF-8 bytes) the wordpiece op cuts into pieces; longer ones become the unknown token.
MAX_BYTES_PER_WORD = 100


def _package_path(*parts):
    """A path inside the installed tensorflow-text package, found without importing it."""
    package = importlib.util.find_spec("tensorflow_text")
    if package is None:
        raise ImportError("tensorflow-text is not installed: pip install tensorflow-text")
    return os.path.join(package.submodule_search_locations[0], *parts)


@functools.cache
def _library(filename):
    """Loads one of tensorflow-text's op libraries (once per process); returns its op module."""
    return tf.load_op_library(_package_path("python", "ops", filename))


@functools.cache
def _wordpiece_model_builder():
    """tensorflow-text's wordpiece model builder, loaded without importing the package.

    It is registered under the module name tensorflow-text gives it, so a
    later `import tensorflow_text` finds it in `sys.modules` instead of
    initialising the extension twice (which crashes the process at exit).
    """
    name = f"tensorflow_text.core.pybinds.{_WORDPIECE_MODEL_BUILDER}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, _package_path("core", "pybinds", _WORDPIECE_MODEL_BUILDER + ".so")
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


def register(op_types):
    """Registers the tensorflow-text ops a graph uses, so it can be loaded.

    Args:
        op_types: set of the graph's op types (e.g. `serving.op_types`); loads
            the libraries holding any of them.
    """
    for filename, ops in LIBRARIES.items():
        if not op_types.isdisjoint(ops):
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


def wordpiece_model(vocabulary, suffix_indicator, unknown_token):
    """A wordpiece vocabulary compiled for `wordpiece_tokenize` (as tensorflow-text's `FastWordpieceTokenizer`).

    Args:
        vocabulary: list of str, the pieces in id order; a piece that
            continues a word starts with `suffix_indicator`.
        suffix_indicator: str, e.g. "##".
        unknown_token: str, a piece of `vocabulary`: the id of a word that
            cannot be cut into pieces.

    Returns:
        uint8 [model bytes], the model (a constant in the graphs that use it).
    """
    model = _wordpiece_model_builder().build_fast_wordpiece_model(
        list(vocabulary), MAX_BYTES_PER_WORD, suffix_indicator, unknown_token,
        True,  # no_pretokenization: the inputs are words already.
        False,  # support_detokenization: we detokenize through the vocabulary.
    )
    return tf.constant(np.frombuffer(model, np.uint8))


def wordpiece_tokenize(words, model):
    """Cuts each word into wordpieces (tensorflow-text's `FastWordpieceTokenizeWithOffsets` op).

    Args:
        words: string [N], one word each.
        model: uint8 [model bytes], from `wordpiece_model`.

    Returns:
        `tf.RaggedTensor` int32 [N, None], the piece ids of each word.
    """
    _, ids, row_splits, _, _ = _library("_fast_wordpiece_tokenizer.so").fast_wordpiece_tokenize_with_offsets(
        input_values=words, wp_model=model
    )
    return tf.RaggedTensor.from_row_splits(tf.cast(ids, tf.int32), row_splits, validate=False)
