"""Translates with `serving.load`, which registers the graph's tf-text ops without importing tensorflow_text.

    python tests/clients/load_without_tensorflow_text.py VERSION_PATH SENTENCES_JSON

Prints three lines: the `tensorflow_text` modules imported (a Python list),
the JSON list of `text_ops.LIBRARIES` op libraries mapped into the process,
and the JSON list of the translations.
"""

import json
import os
import sys

import tensorflow as tf

from tf_seq2seq import serving, text_ops

out = serving.load(sys.argv[1]).signatures["serving_default"](sentences=tf.constant(json.loads(sys.argv[2])))
print(sorted(name for name in sys.modules if name.startswith("tensorflow_text")))
mapped = {os.path.basename(line.split()[-1]) for line in open("/proc/self/maps") if line.rstrip().endswith(".so")}
print(json.dumps(sorted(mapped & set(text_ops.LIBRARIES))))
print(json.dumps([t.decode() for t in out["translations"].numpy()]))
