"""Fires many hostile inputs at a loaded SavedModel, in batches, timing each call.

    python tests/clients/hostile_inputs.py VERSION_PATH

Control characters, broken UTF-8, random bytes, 100 kB lines and an empty
batch go to `serving_default`, and to `score` as sentences and as
translations; every output must be well formed (an assert fails otherwise). Prints one JSON line: the number of inputs answered and the
slowest call's seconds.
"""

import importlib
import json
import random
import sys
import time

import tensorflow as tf

importlib.import_module("tensorflow_text")  # Registers the tf-text ops used by the graph.

signatures = tf.saved_model.load(sys.argv[1]).signatures
model, score = signatures["serving_default"], signatures["score"]
rng = random.Random(0)
pieces = ["", " ", "\t\n", "\u00a0", "\x00", "\x07\x1b[31m", "😀🇫🇷", "▁", "Go.", "ça",
          "\u202e", "<unk>", "<eos>", "' OR 1=1 --", "\ud7ff"]
inputs = [b"".join(rng.choice(pieces).encode() for _ in range(rng.randint(0, 12)))
          for _ in range(900)]
inputs += [bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) for _ in range(96)]
inputs += [("Go. " * 25000).encode(), b"\xff" * 100000, "😀".encode() * 25000, b"x" * 100000]
slowest, count = 0.0, 0
for start in range(0, len(inputs), 10):
    batch = inputs[start:start + 10]
    began = time.perf_counter()
    out = model(sentences=tf.constant(batch, tf.string))
    scored = score(sentences=tf.constant(batch, tf.string), translations=tf.constant(batch[::-1], tf.string))
    slowest = max(slowest, time.perf_counter() - began)
    assert scored["log_probs"].shape == scored["lengths"].shape == (len(batch),)
    assert bool(tf.reduce_all(tf.math.is_finite(scored["log_probs"]))) and bool(tf.reduce_all(scored["lengths"] >= 1))
    assert out["translations"].shape == (len(batch),) and out["scores"].shape == (len(batch),)
    assert all(isinstance(t, bytes) for t in out["translations"].numpy())
    assert bool(tf.reduce_all(tf.math.is_finite(out["scores"])))
    count += len(batch)
empty = model(sentences=tf.constant([], tf.string))
assert empty["translations"].shape == (0,)
assert score(sentences=tf.constant([], tf.string), translations=tf.constant([], tf.string))["log_probs"].shape == (0,)
print(json.dumps({"count": count, "slowest": slowest}))
