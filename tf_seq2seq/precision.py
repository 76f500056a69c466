"""Numeric precision (`--mixed_precision`): Keras' dtype policy for training and for serving.

`set_precision` sets the global policy a training run builds its model in
(and warns where the policy is slower than float32 on this CPU);
`serving_precision` builds a model for serving in the compute dtype it was
trained in, restoring the global policy after.
"""

import contextlib

import keras
import tensorflow as tf
from absl import logging

from tf_seq2seq import config as config_lib
from tf_seq2seq.errors import Seq2SeqError


def set_precision(config):
    """Sets Keras' global dtype policy from `config.mixed_precision` ('' = float32).

    Variables stay float32; the softmax and loss are computed in float32.
    """
    policies = config_lib.PRECISION_POLICIES
    if config.mixed_precision not in policies:
        raise Seq2SeqError(
            f"unknown --mixed_precision {config.mixed_precision!r}: expected one of {policies}"
        )
    keras.mixed_precision.set_global_policy(config.mixed_precision or "float32")
    if config.distribution != "tpu" and not tf.config.list_physical_devices("GPU"):
        _warn_if_slow_on_this_cpu(config.mixed_precision)


# CPU flags (Linux /proc/cpuinfo) of native bfloat16 arithmetic.
BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def native_bfloat16(cpuinfo="/proc/cpuinfo"):
    """Whether this CPU computes in bfloat16 natively (a flag of `BFLOAT16_CPU_FLAGS`); False if unknown."""
    try:
        with open(cpuinfo, encoding="utf-8") as f:
            flags = {flag for line in f if line.startswith("flags") for flag in line.split(":", 1)[1].split()}
    except OSError:
        return False
    return any(flag in flags for flag in BFLOAT16_CPU_FLAGS)


def _warn_if_slow_on_this_cpu(policy, cpuinfo="/proc/cpuinfo"):
    """Warns when a training precision policy is slower than float32 on this GPU-less machine."""
    if policy == "mixed_float16":
        logging.warning("--mixed_precision=mixed_float16 without a GPU: CPUs emulate float16 arithmetic, "
                        "so this trains slower than float32 (mixed_bfloat16 suits CPUs with native bfloat16)")
    elif policy == "mixed_bfloat16" and not native_bfloat16(cpuinfo):
        logging.warning("--mixed_precision=mixed_bfloat16 on a CPU without native bfloat16 (none of %s): "
                        "this trains slower than float32 here", ", ".join(BFLOAT16_CPU_FLAGS))


@contextlib.contextmanager
def serving_precision(config):
    """Builds models in the context with the compute dtype they serve in.

    A model trained with `mixed_bfloat16` also encodes and decodes in bfloat16
    (the softmax GEMM streams half the bytes per beam step; log-probs stay
    float32); any other model serves in float32. Restores Keras' global policy
    on exit.
    """
    previous = keras.mixed_precision.global_policy()
    bfloat16 = config.mixed_precision == "mixed_bfloat16"
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if bfloat16 else "float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
