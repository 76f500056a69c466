"""Loads a SavedModel the way a TF2 client does and prints what its signatures give.

    python tests/clients/tf2_signatures.py VERSION_PATH SENTENCES_JSON

Prints one JSON line: the `serving_default` translations, scores and
truncated flags, the `beam_search` 2-best lists at beam 3, and the shape of
the `encode` signature's vectors.
"""

import importlib
import json
import sys

import tensorflow as tf

importlib.import_module("tensorflow_text")  # Registers the tf-text ops used by the graph.

model = tf.saved_model.load(sys.argv[1])
sentences = tf.constant(json.loads(sys.argv[2]))
default = model.signatures["serving_default"](sentences=sentences)
nbest = model.signatures["beam_search"](
    sentences=sentences, beam_size=tf.constant(3), num_hypotheses=tf.constant(2))
vectors = model.signatures["encode"](sentences=sentences)["vectors"]
print(json.dumps({
    "translations": [t.decode() for t in default["translations"].numpy()],
    "scores": default["scores"].numpy().tolist(),
    "truncated": default["truncated"].numpy().tolist(),
    "nbest": [[t.decode() for t in row] for row in nbest["translations"].numpy()],
    "vectors_shape": vectors.shape.as_list(),
}))
