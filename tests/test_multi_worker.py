"""multi_worker: two real worker processes on 127.0.0.1, a killed worker, misconfigurations."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tf_seq2seq import distribution

from conftest import tiny_flags

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


@pytest.mark.parametrize("config, message", [
    ("{not json", "TF_CONFIG is not valid JSON"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 3}}',
     "TF_CONFIG task worker:3 is not in the cluster"),
    ('{"cluster": {"worker": ["nohost"]}, "task": {"type": "worker", "index": 0}}',
     "TF_CONFIG address 'nohost' is not host:port"),
    ('{"cluster": {"ps": ["127.0.0.1:1"], "worker": ["127.0.0.1:2"]}, '
     '"task": {"type": "worker", "index": 0}}', "TF_CONFIG cluster job 'ps': multi_worker takes"),
])
def test_bad_tf_config_is_a_one_line_error(config, message, tiny_corpus, tmp_path):
    process = start_worker(tmp_path / "model", tiny_corpus, tmp_path, config, 0)
    assert wait(process, 120) == 2
    assert f"error: {message}" in read_log(tmp_path, 0)


def test_a_port_in_use_is_a_one_line_error(tiny_corpus, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = [taken.getsockname()[1], taken.getsockname()[1] + 1]
        process = start_worker(tmp_path / "model", tiny_corpus, tmp_path, tf_config(ports, 0), 0)
        assert wait(process, 120) == 2
    assert f"error: cannot listen on 127.0.0.1:{ports[0]}" in read_log(tmp_path, 0)
