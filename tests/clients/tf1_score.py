"""Loads a SavedModel through the TF1 session API by tensor names, as TF Serving does, and scores.

    echo '[SENTENCES, TRANSLATIONS]' | python tests/clients/tf1_score.py VERSION_PATH

Reads a JSON pair of string lists from stdin and prints one JSON line: every
output of the `score` signature on them.
"""

import importlib
import json
import sys

import tensorflow as tf

importlib.import_module("tensorflow_text")  # Registers the tf-text ops used by the graph.

sentences, translations = json.load(sys.stdin)
with tf.Graph().as_default(), tf.compat.v1.Session() as session:
    meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], sys.argv[1])
    signature = meta_graph.signature_def["score"]
    outputs = session.run(
        {name: info.name for name, info in signature.outputs.items()},
        {signature.inputs["sentences"].name: sentences, signature.inputs["translations"].name: translations},
    )
print(json.dumps({name: value.tolist() for name, value in outputs.items()}))
