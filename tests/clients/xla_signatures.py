"""Runs the XLA-compiled `beam_search_xla` signature and `beam_search` side by side.

    python tests/clients/xla_signatures.py VERSION_PATH SENTENCES_JSON

For a `jit_compile` export. Prints one JSON line: `{"SIGNATURE/BEAM":
{"translations": ..., "scores": ...}}` for both signatures at beams 1 and 3
(as many hypotheses as the beam).
"""

import importlib
import json
import sys

import tensorflow as tf

importlib.import_module("tensorflow_text")  # Registers the tf-text ops used by the graph.

model = tf.saved_model.load(sys.argv[1])
sentences = tf.constant(json.loads(sys.argv[2]))
results = {}
for name in ("beam_search", "beam_search_xla"):
    for beam in (1, 3):
        out = model.signatures[name](
            sentences=sentences, beam_size=tf.constant(beam), num_hypotheses=tf.constant(beam))
        results[f"{name}/{beam}"] = {
            "translations": [[t.decode() for t in row] for row in out["translations"].numpy()],
            "scores": out["scores"].numpy().tolist(),
        }
print(json.dumps(results))
