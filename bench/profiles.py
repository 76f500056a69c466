"""Op time by op type from TensorFlow's profiler, for the benches (needs only TensorFlow).

`profiled(fn)` runs `fn` under `tf.profiler` and returns what it returned
with the CPU op time of the run summed by op type, over all threads.
"""

import collections
import glob
import os
import re
import tempfile

import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2


def profiled(fn):
    """Runs `fn()` under TensorFlow's profiler; returns (its result, `op_seconds` of the run)."""
    with tempfile.TemporaryDirectory() as log_dir:
        tf.profiler.experimental.start(log_dir)
        try:
            result = fn()
        finally:
            tf.profiler.experimental.stop()
        return result, op_seconds(log_dir)


def op_seconds(log_dir):
    """CPU op time by op type, in seconds, from the profile written to `log_dir`.

    Returns:
        `collections.Counter` of op type -> seconds, summed over every thread.
    """
    space = xplane_pb2.XSpace()
    (path,) = glob.glob(os.path.join(log_dir, "**", "*.xplane.pb"), recursive=True)
    with open(path, "rb") as f:
        space.ParseFromString(f.read())
    seconds = collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                op_type = op_type_of(plane.event_metadata[event.metadata_id].name)
                if op_type:
                    seconds[op_type] += event.duration_ps * 1e-12
    return seconds


def op_type_of(event_name):
    """The op type of a kernel event named `node_name:OpType`, else None (framework events)."""
    name, _, op_type = event_name.rpartition(":")
    is_kernel = name and not name.endswith(":") and re.fullmatch(r"_?[A-Z]\w*", op_type)
    return op_type if is_kernel else None


def gemm_seconds(seconds):
    """The GEMMs' share of `op_seconds`: every `MatMul` kernel (oneDNN's fused ones included)."""
    return sum(s for op, s in seconds.items() if "MatMul" in op)
