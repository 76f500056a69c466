"""Runs that last: resume after SIGKILL is exact, a non-finite loss stops cleanly.

SIGTERM and SIGINT, which checkpoint and stop, are tested in test_stop_signals.py.
"""

import signal
import time

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import training
from tf_seq2seq.errors import Seq2SeqError

from helpers import tiny_config, train_process

STEPS = 200


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
    straight = train_process(tmp_path / "straight", tiny_corpus, train_steps=STEPS)
    killed = train_process(tmp_path / "killed", tiny_corpus, train_steps=STEPS)
    wait_for_checkpoint(str(tmp_path / "killed"), killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    interrupted_at = tf.train.latest_checkpoint(str(tmp_path / "killed"))
    assert not interrupted_at.endswith(f"ckpt-{STEPS}"), "the run ended before it was killed"
    resumed = train_process(tmp_path / "killed", tiny_corpus, train_steps=STEPS)
    for process in (straight, resumed):
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        assert f"step {STEPS}" in out
    expected = saved_variables(str(tmp_path / "straight"))
    actual = saved_variables(str(tmp_path / "killed"))
    assert expected.keys() == actual.keys()
    for name in expected:
        np.testing.assert_allclose(actual[name], expected[name], rtol=1e-5, atol=1e-6, err_msg=name)


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
