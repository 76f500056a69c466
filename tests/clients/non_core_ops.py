"""Lists the ops of every graph in a SavedModel that core TensorFlow does not register.

    python tests/clients/non_core_ops.py VERSION_PATH

Runs without importing tensorflow_text (which would register its ops); prints
one JSON line: the sorted op names.
"""

import json
import sys

from tensorflow.python.framework import op_def_registry

from tf_seq2seq import serving

print(json.dumps(sorted(op for op in serving.op_types(sys.argv[1]) if op_def_registry.get(op) is None)))
