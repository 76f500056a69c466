"""Replays a SavedModel's warm-up file (`assets.extra/tf_serving_warmup_requests`) against it.

    python tests/clients/replay_warmup.py VERSION_PATH xla_on|xla_off [probe_xla]

With `xla_off` XLA is disabled first, as TF Serving does unless started with
--xla_cpu_compilation_enabled. A failed request is reported, not raised;
`probe_xla` then calls `beam_search_xla` once more (with the first
`beam_search` request's inputs). Prints one JSON line: `[model name,
signature, batch size of the first output or the error message]` per request.
"""

import ctypes
import importlib
import json
import os
import sys

import tensorflow as tf

from tf_seq2seq import predict_requests

importlib.import_module("tensorflow_text")  # Registers the tf-text ops used by the graph.

if sys.argv[2] == "xla_off":
    tf_library = ctypes.CDLL(os.path.join(os.path.dirname(tf.__file__), "libtensorflow_cc.so.2"))
    tf_library._ZN10tensorflow21DisableXlaCompilationEv()  # tensorflow::DisableXlaCompilation()
model = tf.saved_model.load(sys.argv[1])


def call(signature, inputs):
    try:
        outputs = model.signatures[signature](**inputs)
        return int(tf.shape(outputs[sorted(outputs)[0]])[0])
    except tf.errors.OpError as e:
        return e.message


requests = predict_requests.read_warmup_file(sys.argv[1])
replayed = [[r.model_spec.name, r.model_spec.signature_name,
             call(r.model_spec.signature_name, predict_requests.request_inputs(r))] for r in requests]
if sys.argv[3:] == ["probe_xla"]:
    beam = [r for r in requests if r.model_spec.signature_name == "beam_search"][0]
    replayed.append(["probe", "beam_search_xla", call("beam_search_xla", predict_requests.request_inputs(beam))])
print(json.dumps(replayed))
