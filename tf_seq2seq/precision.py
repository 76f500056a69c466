"""Numeric precision (`--mixed_precision`): the one owner of Keras' dtype policy and loss scaling.

`training_precision` is the context a training run builds its model and
optimizer in (and warns where the policy is slower than float32 on this
CPU); `loss_scaled` wraps the optimizer for `mixed_float16`;
`serving_precision` builds a model for serving in the compute dtype it was
trained in. Both contexts restore Keras' global policy on exit: layers keep
the policy they were built with, and nothing else sees a changed default.
"""

import contextlib

import keras
import tensorflow as tf
from absl import logging


@contextlib.contextmanager
def training_precision(config):
    """Builds a training run's model and optimizer in `config.mixed_precision` ('' = float32).

    Variables stay float32; the softmax and loss are computed in float32.
    Warns where the policy trains slower than float32 on this GPU-less machine.
    """
    if config.distribution != "tpu" and not tf.config.list_physical_devices("GPU"):
        _warn_if_slow_on_this_cpu(config.mixed_precision)
    with _global_policy(config.mixed_precision or "float32"):
        yield


def loss_scaled(optimizer, config):
    """`optimizer`, wrapped in dynamic loss scaling under `mixed_float16` (non-finite steps skipped)."""
    if config.mixed_precision == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


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
    float32); any other model serves in float32.
    """
    with _global_policy("mixed_bfloat16" if config.mixed_precision == "mixed_bfloat16" else "float32"):
        yield


@contextlib.contextmanager
def _global_policy(name):
    """Keras' global dtype policy `name` inside the context, the previous one restored on exit."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
