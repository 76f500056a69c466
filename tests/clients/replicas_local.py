"""Trains runs of the tiny model under `one_device` and under `mirrored` over 2 logical CPUs.

    python tests/clients/replicas_local.py CORPUS_DIR OUT_DIR RUNS_JSON

RUNS_JSON maps a run name to `helpers.tiny_config` changes; each run trains
into OUT_DIR/RUN-one_device and OUT_DIR/RUN-mirrored.
"""

import json
import os
import sys

import tensorflow as tf

from tf_seq2seq import distribution, training

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/
from helpers import tiny_config  # noqa: E402

distribution.split_cpu(2)
corpus, out, runs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
strategies = {"one_device": tf.distribute.OneDeviceStrategy("/cpu:0"),
              "mirrored": tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])}
for run, changes in runs.items():
    for name, strategy in strategies.items():
        training.train(tiny_config(corpus, **changes), f"{out}/{run}-{name}", strategy)
