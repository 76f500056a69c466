"""Picking the `tf.distribute` strategy that the one training loop runs under.

`--distribution`:

* `auto`: `MirroredStrategy` over all local GPUs if there are several, else the
  default strategy (one device).
* `one_device`: `OneDeviceStrategy` on `--device` (default: first GPU, else CPU).
* `mirrored`: `MirroredStrategy` over `--num_gpus` GPUs (0 = all); on a machine
  without GPUs, `--cpu_replicas=N` splits the CPU into N logical devices (for
  testing the distributed code path on a laptop or in CI).

Logical CPU devices must be configured before TensorFlow runs any op, so
`make_strategy` is the first thing a command does.
"""

import tensorflow as tf
from absl import logging

from tf_seq2seq.errors import Seq2SeqError

STRATEGIES = ("auto", "one_device", "mirrored")


def split_cpu(replicas):
    """Splits the first physical CPU into `replicas` logical devices.

    Raises:
        Seq2SeqError: if TensorFlow has already initialised its devices.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * replicas
        )
    except RuntimeError as e:
        raise Seq2SeqError(f"--cpu_replicas must be set before TensorFlow starts: {e}") from None


def make_strategy(config):
    """The strategy named by `config.distribution`.

    Args:
        config: a `config.Config` (distribution, device, num_gpus, cpu_replicas).

    Returns:
        A `tf.distribute.Strategy`.

    Raises:
        Seq2SeqError: unknown strategy, or more GPUs asked for than present.
    """
    if config.distribution not in STRATEGIES:
        raise Seq2SeqError(
            f"unknown --distribution {config.distribution!r}: expected one of {STRATEGIES}"
        )
    if config.cpu_replicas > 1:
        split_cpu(config.cpu_replicas)
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    if config.num_gpus > len(gpus):
        raise Seq2SeqError(f"--num_gpus={config.num_gpus} but this machine has {len(gpus)} GPUs")
    if config.distribution == "one_device":
        return tf.distribute.OneDeviceStrategy(config.device or (gpus[0] if gpus else "/cpu:0"))
    if config.distribution == "mirrored":
        devices = gpus[: config.num_gpus or None] or [
            d.name for d in tf.config.list_logical_devices("CPU")
        ]
        logging.info("Mirrored over %s", devices)
        return tf.distribute.MirroredStrategy(devices)
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy(gpus)
    return tf.distribute.get_strategy()
