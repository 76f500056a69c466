"""multi_worker: two real worker processes on 127.0.0.1, a killed worker, misconfigurations."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from tf_seq2seq import distribution

from helpers import BAD_TF_CONFIGS, logged_scalars, tiny_config, tiny_flags

STEPS = 300
PEER_TIMEOUT = 20


def tf_config(ports, index):
    return json.dumps({
        "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
        "task": {"type": "worker", "index": index},
    })


def start_worker(model_dir, corpus_dir, tmp_path, config, index, **changes):
    """Starts `tf_seq2seq.train --distribution=multi_worker` as a worker with `TF_CONFIG=config`."""
    values = dict(train_steps=STEPS, checkpoint_every_steps=20, log_every_steps=20,
                  peer_timeout=float(PEER_TIMEOUT), distribution="multi_worker")
    values.update(changes)
    flags = tiny_flags(corpus_dir, **values)
    temp = tmp_path / f"tmp-{index}"
    temp.mkdir(exist_ok=True)
    env = dict(os.environ, TF_CONFIG=config, TF_CPP_MIN_LOG_LEVEL="2", TMPDIR=str(temp))
    log = open(tmp_path / f"worker-{index}.log", "a")
    return subprocess.Popen(
        [sys.executable, "-m", "tf_seq2seq.train", f"--model_dir={model_dir}", *flags],
        stdout=log, stderr=subprocess.STDOUT, env=env, text=True,
    )


def start_cluster(model_dir, corpus_dir, tmp_path, **changes):
    return [start_worker(model_dir, corpus_dir, tmp_path, config, i, **changes)
            for i, config in enumerate(distribution.local_tf_configs(2))]


def wait(process, seconds):
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"worker still running after {seconds}s")


def read_log(tmp_path, index):
    return (tmp_path / f"worker-{index}.log").read_text()


def checkpoint_steps(model_dir):
    if not os.path.isdir(model_dir):
        return []
    return sorted(int(name[5:-6]) for name in os.listdir(model_dir)
                  if name.startswith("ckpt-") and name.endswith(".index"))


# Slow (about a minute and a half of two workers): in `make test`,
# test_two_workers_each_read_their_shard_... trains a 2-worker cluster that checkpoints
# from the chief, test_resilience.py resumes a SIGKILLed run exactly, and
# test_a_missing_peer_is_an_error_within_the_timeout stops a worker without its peer.
@pytest.mark.slow
def test_two_workers_train_checkpoint_from_the_chief_and_resume_after_a_kill(tiny_corpus, tmp_path):
    model_dir = tmp_path / "model"
    chief, worker = start_cluster(model_dir, tiny_corpus, tmp_path)
    deadline = time.monotonic() + 300
    while not any(step >= 40 for step in checkpoint_steps(model_dir)):
        assert time.monotonic() < deadline and chief.poll() is None, read_log(tmp_path, 0)
        time.sleep(0.2)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    # The chief notices the lost peer and stops with an error instead of hanging.
    assert wait(chief, 3 * PEER_TIMEOUT) == 2
    chief_log = read_log(tmp_path, 0)
    assert "error: lost a cluster peer" in chief_log
    killed_at = max(checkpoint_steps(model_dir))
    assert killed_at < STEPS

    # Restarting both workers resumes from the chief's last checkpoint and finishes.
    chief, worker = start_cluster(model_dir, tiny_corpus, tmp_path)
    assert wait(chief, 300) == 0, read_log(tmp_path, 0)
    assert wait(worker, 60) == 0, read_log(tmp_path, 1)
    chief_log, worker_log = read_log(tmp_path, 0), read_log(tmp_path, 1)
    assert f"Resumed from {model_dir}/ckpt-" in chief_log
    assert f"Resumed from {model_dir}/ckpt-" in worker_log
    assert f"trained {model_dir}: step {STEPS}" in chief_log
    assert f"trained {model_dir}: step {STEPS}" in worker_log
    assert max(checkpoint_steps(model_dir)) == STEPS
    # Only the chief wrote to the model directory; the worker's temporary files are gone.
    assert len(os.listdir(model_dir / "train")) == 2  # One event file per chief run.
    assert not [name for name in os.listdir(tmp_path / "tmp-1") if name.startswith("tf-seq2seq-")]


def test_a_missing_peer_is_an_error_within_the_timeout(tiny_corpus, tmp_path):
    began = time.monotonic()
    first_of_two = distribution.local_tf_configs(2)[0]
    alone = start_worker(tmp_path / "model", tiny_corpus, tmp_path, first_of_two, 0, peer_timeout=5.0)
    assert wait(alone, 120) != 0  # Killed by the watchdog: TensorFlow blocks while waiting.
    assert time.monotonic() - began < 120
    assert "did not finish within --peer_timeout=5s" in read_log(tmp_path, 0)


# The CLI path of one bad TF_CONFIG; test_distribution.py checks every message in process.
@pytest.mark.parametrize("config, message", [
    BAD_TF_CONFIGS[0], *(pytest.param(*case, marks=pytest.mark.slow) for case in BAD_TF_CONFIGS[1:4])
])
def test_bad_tf_config_is_a_one_line_error(config, message, tiny_corpus, tmp_path):
    process = start_worker(tmp_path / "model", tiny_corpus, tmp_path, config, 0)
    assert wait(process, 120) == 2
    assert f"error: {message}" in read_log(tmp_path, 0)


# Slow: test_distribution.py::test_a_port_in_use_is_refused checks the message in process,
# test_bad_tf_config_is_a_one_line_error the CLI's one-line error.
@pytest.mark.slow
def test_a_port_in_use_is_a_one_line_error(tiny_corpus, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = [taken.getsockname()[1], taken.getsockname()[1] + 1]
        process = start_worker(tmp_path / "model", tiny_corpus, tmp_path, tf_config(ports, 0), 0)
        assert wait(process, 120) == 2
    assert f"error: cannot listen on 127.0.0.1:{ports[0]}" in read_log(tmp_path, 0)


def union_of_shard_batches(config, model_dir, shards):
    """One process's stream of what a cluster of `shards` workers trains on: at every
    step the workers' shard batches stacked (padded to the longest)."""
    import tensorflow as tf

    from tf_seq2seq import corpus, pipeline, tokenizer

    source, target = tokenizer.from_model_dir(model_dir, config.tokenizer)
    pairs = corpus.load(config.dataset, config.train_split, config.source_lang, config.target_lang)
    def model_inputs(features, labels):  # Without the pairs' pass and index numbers.
        return {k: v for k, v in features.items() if k not in pipeline.POSITION_KEYS}, labels

    streams = tuple(pipeline.training_batches(pairs, source, target, config, (i, shards)).map(model_inputs)
                    for i in range(shards))

    def stack(*batches):
        def pad_and_concat(*tensors):
            width = tf.reduce_max([tf.shape(t)[1] for t in tensors])
            return tf.concat([tf.pad(t, [[0, 0], [0, width - tf.shape(t)[1]]]) for t in tensors], 0)
        return tf.nest.map_structure(pad_and_concat, *batches)

    return tf.data.Dataset.zip(streams).map(stack)


def one_replica_losses(config, model_dir, shards, steps):
    """Per-step mean token losses of the training step on one replica, trained on the
    union of the shards' batches (seeded like `training.train`)."""
    import keras
    import tensorflow as tf

    from tf_seq2seq import model as model_lib
    from tf_seq2seq import optimization, train_step

    keras.utils.set_random_seed(config.seed)
    batches = union_of_shard_batches(config, model_dir, shards)
    seq2seq = model_lib.for_model_dir(config, model_dir)
    optimizer = optimization.make_optimizer(config)
    optimizer.build(seq2seq.training_model.trainable_variables)
    spec = tf.nest.map_structure(lambda s: tf.TensorSpec([None, None], s.dtype), batches.element_spec)
    step = train_step.make_train_step(tf.distribute.get_strategy(), seq2seq, optimizer,
                                      config.clip_norm, spec)
    return [float(m["loss_sum"] / m["target_tokens"])
            for m in map(step, batches.take(steps))]


def test_two_workers_each_read_their_shard_and_update_like_one_replica_on_the_union(
        tiny_corpus, tmp_path):
    steps = 12
    changes = dict(train_steps=steps, batch_size=4, log_every_steps=1, optimizer="sgd",
                   learning_rate=1.0, checkpoint_every_steps=6)
    model_dir = tmp_path / "model"
    chief, worker = start_cluster(model_dir, tiny_corpus, tmp_path, **changes)
    assert wait(chief, 300) == 0, read_log(tmp_path, 0)
    assert wait(worker, 60) == 0, read_log(tmp_path, 1)
    assert "Reading input shard 0 of 2" in read_log(tmp_path, 0)
    assert "Reading input shard 1 of 2" in read_log(tmp_path, 1)
    # The other worker saved its own input position beside the chief's checkpoints.
    assert checkpoint_steps(model_dir / "data-shard-1") == checkpoint_steps(model_dir)[-3:] != []
    assert not os.path.exists(model_dir / "data-shard-0")  # The chief's is in its checkpoints.

    config = tiny_config(tiny_corpus, **changes)
    expected = one_replica_losses(config, str(model_dir), 2, steps)
    cluster = logged_scalars(model_dir, "loss")
    assert len(cluster) == steps and expected[-1] < expected[0]
    np.testing.assert_allclose(cluster, expected, rtol=1e-4)
