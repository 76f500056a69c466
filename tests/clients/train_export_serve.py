"""Trains, exports and serves a tiny model, then says which tensorflow_text modules were imported.

    python tests/clients/train_export_serve.py CORPUS_DIR MODEL_DIR EXPORT_DIR word|wordpiece

Trains 2 steps of `helpers.tiny_config` on CORPUS_DIR with the given tokenizer
(MODEL_DIR already holds its vocabularies), exports it into EXPORT_DIR and
translates "I am cold." with the loaded export. Prints `imported: [...]`, the
tensorflow_text modules imported so far; then imports tensorflow_text (loading
the same op libraries again) and prints its `regex_split` of "a b" and the
translations' shape.
"""

import os
import sys

import tensorflow as tf

from tf_seq2seq import serving, training

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/
from helpers import tiny_config  # noqa: E402

corpus_dir, model_dir, export_dir, kind = sys.argv[1:5]
config = tiny_config(corpus_dir, train_steps=2, tokenizer=kind)
training.train(config, model_dir)
path = serving.export_model_dir(config, model_dir, export_dir)
loaded = serving.load(path)
translations = loaded.signatures["serving_default"](sentences=tf.constant(["I am cold."]))["translations"]
print("imported:", sorted(name for name in sys.modules if name.startswith("tensorflow_text")))
import tensorflow_text  # noqa: E402  Loading the same op libraries (and model builder) again works.
print(tensorflow_text.regex_split(tf.constant(["a b"]), " ", "").to_list(), translations.shape)
