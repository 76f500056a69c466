"""stop_signals: SIGINT and SIGTERM ask a training run to checkpoint and stop (the train command says so and
exits with 128 + the signal); a second one stops it at once, even inside a blocking op."""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import tensorflow as tf

from helpers import client, python_env, train_process


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
    process = subprocess.Popen([sys.executable, client("block_inside_an_op")], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=python_env())
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
