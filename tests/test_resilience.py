"""Runs that last: resume after SIGKILL is exact, SIGTERM checkpoints, a non-finite loss stops cleanly,
signals are heard inside a blocking op."""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import training
from tf_seq2seq.errors import Seq2SeqError

from conftest import tiny_config, tiny_flags

STEPS = 200


def train_process(model_dir, corpus_dir, **changes):
    """Starts `python -m tf_seq2seq.train` with the tiny recipe in the background."""
    settings = dict(batch_size=3, train_steps=STEPS, checkpoint_every_steps=10)
    flags = tiny_flags(corpus_dir, **{**settings, **changes})
    return subprocess.Popen(
        [sys.executable, "-m", "tf_seq2seq.train", f"--model_dir={model_dir}", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )


def wait_for_checkpoint(model_dir, process, timeout=300):
    """Waits until the first checkpoint exists (or fails if the process ends first)."""
    deadline = time.monotonic() + timeout
    while tf.train.latest_checkpoint(model_dir) is None:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint written in time"
        time.sleep(0.05)


def saved_variables(model_dir):
    """Every variable (weights, optimizer slots, step) of the latest checkpoint."""
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(model_dir))
    names = sorted(n for n in reader.get_variable_to_shape_map() if n.endswith("VARIABLE_VALUE"))
    assert len(names) > 20
    return {name: reader.get_tensor(name) for name in names}


def test_run_killed_and_resumed_ends_with_the_weights_of_an_uninterrupted_run(tiny_corpus, tmp_path):
    straight = train_process(tmp_path / "straight", tiny_corpus)
    killed = train_process(tmp_path / "killed", tiny_corpus)
    wait_for_checkpoint(str(tmp_path / "killed"), killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    interrupted_at = tf.train.latest_checkpoint(str(tmp_path / "killed"))
    assert not interrupted_at.endswith(f"ckpt-{STEPS}"), "the run ended before it was killed"
    resumed = train_process(tmp_path / "killed", tiny_corpus)
    for process in (straight, resumed):
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        assert f"step {STEPS}" in out
    expected = saved_variables(str(tmp_path / "straight"))
    actual = saved_variables(str(tmp_path / "killed"))
    assert expected.keys() == actual.keys()
    for name in expected:
        np.testing.assert_allclose(actual[name], expected[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_sigterm_writes_a_checkpoint_then_stops_with_a_resume_line_and_status_143(tiny_corpus, tmp_path):
    model_dir = str(tmp_path / "model")
    process = train_process(model_dir, tiny_corpus, train_steps=10**6, checkpoint_every_steps=10**5)
    deadline = time.monotonic() + 300
    while not os.path.isdir(os.path.join(model_dir, "train")) or not os.listdir(os.path.join(model_dir, "train")):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    time.sleep(3)  # Let it train some steps.
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM == 143, err  # A scheduler sees a failure.
    assert "Received SIGTERM" in err and "trained" not in out
    match = re.search(r"stopped by SIGTERM at step (\d+) of \d+ \(checkpoint saved in (.*)\); "
                      r"run the same command to resume", err.splitlines()[-1])
    assert match and match.group(2) == model_dir, err[-2000:]
    step = int(match.group(1))
    assert step > 0
    assert tf.train.latest_checkpoint(model_dir).endswith(f"ckpt-{step}")


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tiny_corpus, tmp_path):
    model_dir = str(tmp_path / "model")
    # Batches of 4 of 8 pairs: an epoch ends, and a checkpoint is written, every 2 steps.
    settings = dict(batch_size=4, checkpoint_every_steps=1000)
    training.train(tiny_config(tiny_corpus, train_steps=10, **settings), model_dir)
    exploding = tiny_config(
        tiny_corpus, train_steps=200, optimizer="sgd", learning_rate=3e38, clip_norm=0.0, **settings
    )
    with pytest.raises(Seq2SeqError, match=r"non-finite (loss|weights) at step (\d+).*ckpt-(\d+)") as error:
        training.train(exploding, model_dir)
    latest = tf.train.latest_checkpoint(model_dir)
    assert error.value.args[0].split("checkpoint is ")[1].startswith(latest)
    reader = tf.train.load_checkpoint(latest)
    for name in reader.get_variable_to_shape_map():
        if name.endswith("VARIABLE_VALUE"):
            assert np.all(np.isfinite(reader.get_tensor(name))), name


BLOCKED_INSIDE_AN_OP = """
import threading
import tensorflow as tf
from tf_seq2seq import stop_signals

with stop_signals.stop_requests() as stop:
    threading.Thread(target=lambda: stop.wait() and print("stop requested", flush=True), daemon=True).start()
    print("blocking", flush=True)
    tf.queue.FIFOQueue(1, tf.int32).dequeue()  # Never returns: Python runs no handler meanwhile.
"""


def next_line(stream, timeout=60):
    """The next line of `stream`, or "" if none comes within `timeout` seconds."""
    lines = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_are_heard_inside_a_blocking_op_and_a_second_one_stops_at_once(sig):
    process = subprocess.Popen([sys.executable, "-c", BLOCKED_INSIDE_AN_OP], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    try:
        assert next_line(process.stdout) == "blocking\n"
        time.sleep(1)  # Inside the dequeue.
        process.send_signal(sig)
        assert next_line(process.stdout) == "stop requested\n"  # Heard, though the op still blocks.
        assert process.poll() is None
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 128 + sig, err
    assert f"Received {sig.name} again: stopping now" in err
