"""Picking the `tf.distribute` strategy that the one training loop runs under.

`--distribution`:

* `auto`: `MirroredStrategy` over all local GPUs if there are several, else the
  default strategy (one device).
* `one_device`: `OneDeviceStrategy` on `--device` (default: first GPU, else CPU).
* `mirrored`: `MirroredStrategy` over `--num_gpus` GPUs (0 = all); on a machine
  without GPUs, `--cpu_replicas=N` splits the CPU into N logical devices (for
  testing the distributed code path on a laptop or in CI).
* `multi_worker`: `MultiWorkerMirroredStrategy` over the cluster in the
  `TF_CONFIG` environment variable (one process per host, each using its local
  GPUs or CPU); `--collective` picks the all-reduce implementation.
* `tpu`: `TPUStrategy` on the TPU at `--tpu`.

`parameter_server` is not offered: it needs a `ClusterCoordinator` scheduling
steps asynchronously, which is a different training loop, not this one.

Logical CPU devices must be configured before TensorFlow runs any op, so
`make_strategy` is the first thing a command does. Waiting for cluster peers is
bounded by `--peer_timeout`: a missing or dead peer is a one-line error, not a
hang.
"""

import dataclasses
import json
import os
import socket
import subprocess
import sys

import tensorflow as tf
from absl import logging

from tf_seq2seq import settings
from tf_seq2seq import placement
from tf_seq2seq.errors import Seq2SeqError

COLLECTIVES = dict(zip(settings.COLLECTIVES, (
    tf.distribute.experimental.CommunicationImplementation.AUTO,
    tf.distribute.experimental.CommunicationImplementation.RING,
    tf.distribute.experimental.CommunicationImplementation.NCCL,
)))


@dataclasses.dataclass(frozen=True)
class Task:
    """This process's place in a cluster.

    Attributes:
        type: `chief` or `worker` (`TF_CONFIG`'s task type).
        index: the task index within its type.
        address: this task's `host:port`.
        peers: the other tasks' addresses.
    """

    type: str
    index: int
    address: str
    peers: tuple


def cluster_task(tf_config=None):
    """Parses and checks `TF_CONFIG`.

    Args:
        tf_config: the JSON string; defaults to the `TF_CONFIG` environment variable.

    Returns:
        A `Task`.

    Raises:
        Seq2SeqError: if `TF_CONFIG` is missing, not JSON, or inconsistent.
    """
    text = os.environ.get("TF_CONFIG", "") if tf_config is None else tf_config
    if not text:
        raise Seq2SeqError("--distribution=multi_worker needs the TF_CONFIG environment variable")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as e:
        raise Seq2SeqError(f"TF_CONFIG is not valid JSON: {e}") from None
    cluster, task = parsed.get("cluster"), parsed.get("task")
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise Seq2SeqError('TF_CONFIG needs "cluster" and "task" objects')
    task_type, index = task.get("type"), task.get("index")
    if task_type not in ("chief", "worker"):
        raise Seq2SeqError(f'TF_CONFIG task type must be "chief" or "worker", got {task_type!r}')
    addresses = cluster.get(task_type)
    if not isinstance(addresses, list) or not isinstance(index, int) or not 0 <= index < len(addresses):
        raise Seq2SeqError(
            f"TF_CONFIG task {task_type}:{index} is not in the cluster's {task_type} list {addresses}"
        )
    for job in cluster:
        if job not in ("chief", "worker"):
            raise Seq2SeqError(f"TF_CONFIG cluster job {job!r}: multi_worker takes chief and worker only")
    everyone = [a for job in ("chief", "worker") for a in cluster.get(job, [])]
    for address in everyone:
        host, _, port = str(address).rpartition(":")
        if not host or not port.isdigit():
            raise Seq2SeqError(f"TF_CONFIG address {address!r} is not host:port")
    address = addresses[index]
    peers = tuple(a for a in everyone if a != address)
    return Task(task_type, index, address, peers)


def check_port_free(address):
    """Raises `Seq2SeqError` if this task's port is taken by another process."""
    host, _, port = address.rpartition(":")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("" if host not in ("localhost", "127.0.0.1") else host, int(port)))
        except OSError as e:
            raise Seq2SeqError(f"cannot listen on {address} (TF_CONFIG): {e.strerror}") from None


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


# Run in a child process: kills its parent (PID, argv[1]) after argv[2] seconds
# unless killed first, printing argv[3] as the error.
_WATCHDOG = """
import os, sys, time
parent, seconds, message = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
time.sleep(seconds)
print("error: " + message, file=sys.stderr, flush=True)
os.kill(parent, 9)
"""


def _within_timeout(seconds, what, build):
    """Runs `build()`; if it takes longer than `seconds`, prints an error and kills the process.

    TensorFlow waits for cluster peers inside C++ holding the Python GIL, with
    no deadline and SIGTERM handled, so neither a Python thread nor a signal
    handler can stop it: a watchdog process does.
    """
    message = f"{what} did not finish within --peer_timeout={seconds:g}s"
    watchdog = subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(seconds), message])
    try:
        return build()
    finally:
        watchdog.kill()
        watchdog.wait()


def multi_worker_strategy(config):
    """`MultiWorkerMirroredStrategy` from `TF_CONFIG`, waiting at most `config.peer_timeout`."""
    task = cluster_task()
    check_port_free(task.address)
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=COLLECTIVES[config.collective], timeout_seconds=config.peer_timeout
    )
    logging.info("Joining the cluster as %s:%d (%s); waiting for %s", task.type, task.index,
                 task.address, ", ".join(task.peers) or "no peers")
    strategy = _within_timeout(
        config.peer_timeout, f"joining the cluster (peers {', '.join(task.peers)})",
        lambda: tf.distribute.MultiWorkerMirroredStrategy(communication_options=options),
    )
    return strategy


def tpu_strategy(config):
    """`TPUStrategy` on the TPU at `config.tpu` (a name or a grpc:// address)."""
    if not config.tpu:
        raise Seq2SeqError("--distribution=tpu needs --tpu (a TPU name or grpc://HOST:PORT)")
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=config.tpu)
        _within_timeout(config.peer_timeout, f"connecting to TPU {config.tpu}",
                        lambda: tf.config.experimental_connect_to_cluster(resolver))
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError) as e:
        raise Seq2SeqError(f"cannot use TPU {config.tpu!r}: {str(e).splitlines()[0]}") from None
    return tf.distribute.TPUStrategy(resolver)


def make_strategy(config):
    """The strategy named by `config.distribution`.

    Args:
        config: a `config.Config` (distribution, device, num_gpus, cpu_replicas,
            collective, peer_timeout, tpu, layer_devices).

    Returns:
        A `tf.distribute.Strategy`.

    Raises:
        Seq2SeqError: more GPUs asked for than present, a
            bad cluster or TPU configuration, or model parallelism combined
            with replicas.
    """
    if config.cpu_replicas > 1:
        split_cpu(config.cpu_replicas)
    if config.layer_devices and config.distribution in ("mirrored", "multi_worker", "tpu"):
        raise Seq2SeqError(f"--layer_devices places one replica's layers on several devices: "
                           f"it cannot combine with --distribution={config.distribution}")
    if config.distribution == "multi_worker":
        return multi_worker_strategy(config)
    if config.distribution == "tpu":
        return tpu_strategy(config)
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    if config.num_gpus > len(gpus):
        raise Seq2SeqError(f"--num_gpus={config.num_gpus} but this machine has {len(gpus)} GPUs")
    if config.layer_devices:
        check_layer_devices(placement.layer_devices(config))
    if config.distribution == "one_device":
        return tf.distribute.OneDeviceStrategy(config.device or (gpus[0] if gpus else "/cpu:0"))
    if config.distribution == "mirrored":
        devices = gpus[: config.num_gpus or None] or [
            d.name for d in tf.config.list_logical_devices("CPU")
        ]
        logging.info("Mirrored over %s", devices)
        return tf.distribute.MirroredStrategy(devices)
    if len(gpus) > 1 and not config.layer_devices:
        return tf.distribute.MirroredStrategy(gpus)
    return tf.distribute.get_strategy()


def check_layer_devices(devices):
    """Raises `Seq2SeqError` if a `--layer_devices` entry names no local device."""
    def kind_and_index(name):
        spec = tf.DeviceSpec.from_string(name)
        return (spec.device_type or "").upper(), spec.device_index or 0

    present = {kind_and_index(d.name) for d in tf.config.list_logical_devices()}
    for device in devices:
        if kind_and_index(device) not in present:
            raise Seq2SeqError(
                f"--layer_devices names {device!r}, not a device of this machine "
                f"({', '.join(sorted(d.name for d in tf.config.list_logical_devices()))})"
            )


def is_chief(strategy):
    """Whether this process writes the run's files: the chief of a cluster (the
    `chief` task, else worker 0), and every process outside a cluster."""
    return strategy.extended.should_checkpoint


def task_name(strategy):
    """`TYPE-INDEX` of this process in a cluster (e.g. `worker-1`), else `local`."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return "local"
    return f"{resolver.task_type}-{resolver.task_id}"


def input_shard(strategy):
    """`(index, count)`: which share of the input stream this process tokenizes.

    Under `multi_worker` each worker reads its own shard (`index` in
    `[0, count)`, the chief first); elsewhere one process reads everything:
    `(0, 1)`.
    """
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return 0, 1
    resolver = strategy.cluster_resolver
    cluster = resolver.cluster_spec().as_dict()
    chiefs = len(cluster.get("chief", []))
    index = 0 if resolver.task_type == "chief" else chiefs + resolver.task_id
    return index, chiefs + len(cluster.get("worker", []))


def local_tf_configs(workers):
    """`TF_CONFIG` values for a cluster of `workers` processes on 127.0.0.1 (free ports).

    For trying multi_worker on one machine (tests, benchmarks); the ports are
    free when chosen, not reserved.

    Returns:
        A list of JSON strings, one per worker, worker 0 (the chief) first.
    """
    sockets = [socket.socket() for _ in range(workers)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    addresses = [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]
    for s in sockets:
        s.close()
    return [
        json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}})
        for index in range(workers)
    ]
