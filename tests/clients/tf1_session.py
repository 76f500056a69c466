"""Loads a SavedModel through the TF1 session API by tensor names, as TF Serving does, and translates.

    python tests/clients/tf1_session.py VERSION_PATH SENTENCES_JSON

Prints one JSON line: the `serving_default` signature's `translations` and `scores`.
"""

import importlib
import json
import sys

import tensorflow as tf

importlib.import_module("tensorflow_text")  # Registers the tf-text ops used by the graph.

with tf.Graph().as_default(), tf.compat.v1.Session() as session:
    meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], sys.argv[1])
    signature = meta_graph.signature_def["serving_default"]
    outputs = session.run(
        {name: info.name for name, info in signature.outputs.items()},
        {signature.inputs["sentences"].name: json.loads(sys.argv[2])},
    )
print(json.dumps({
    "translations": [t.decode() for t in outputs["translations"]],
    "scores": outputs["scores"].tolist(),
}))
