"""Prints one beam_search-like signature's 3-best lists at beam 3.

    python tests/clients/beam_signature.py VERSION_PATH SENTENCES_JSON SIGNATURE

SIGNATURE is e.g. `beam_search` or `beam_search_full_softmax`. Prints one
JSON line: its `translations` and `scores`.
"""

import importlib
import json
import sys

import tensorflow as tf

importlib.import_module("tensorflow_text")  # Registers the tf-text ops used by the graph.

model = tf.saved_model.load(sys.argv[1])
out = model.signatures[sys.argv[3]](
    sentences=tf.constant(json.loads(sys.argv[2])), beam_size=tf.constant(3), num_hypotheses=tf.constant(3))
print(json.dumps({"translations": [[t.decode() for t in row] for row in out["translations"].numpy()],
                  "scores": out["scores"].numpy().tolist()}))
