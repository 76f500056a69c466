"""Builds a 2-layer model over 4 logical CPUs (--layer_devices) and reports where it runs.

    python tests/clients/layer_placement.py

Prints one JSON line: the devices each op group (embedding, lstm_0, lstm_1,
softmax) of the traced training computation runs on, the device of each
weight, and whether the placed computation gives the functional model's logits.
"""

import json

import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import distribution, model

config = config_lib.Config(num_layers=2, units=16, embedding_dim=8,
                           layer_devices="/cpu:0,/cpu:1,/cpu:2,/cpu:3", cpu_replicas=4)
distribution.make_strategy(config.replace(distribution="one_device", device="/cpu:0"))
seq2seq = model.Seq2Seq(config, 30, 40)
features = {"source": tf.constant([[5, 6, 7, 0]]), "target_in": tf.constant([[2, 8, 9]])}
graph = tf.function(seq2seq.logits).get_concrete_function(features).graph
devices = {}
for op in graph.get_operations():
    for group in ("embedding", "lstm_0", "lstm_1", "softmax"):
        if group in op.name and op.device:
            devices.setdefault(group, set()).add(op.device.split("/")[-1])
variables = {v.path: v.value.device.split("/")[-1] for v in seq2seq.training_model.weights}
same = bool(tf.reduce_all(tf.abs(seq2seq.logits(features) - seq2seq.training_model(features)) < 1e-6))
print(json.dumps({"ops": {k: sorted(v) for k, v in devices.items()}, "variables": variables,
                  "same": same}))
