"""The same training loop under several `tf.distribute` strategies (logical CPU devices)."""

import numpy as np
import pytest

from conftest import logged_scalars, run_python, tiny_flags

STEPS = 12


def train_cli(model_dir, corpus_dir, *extra):
    # The CLI path (--cpu_replicas, the strategy's log line); test_replica_equality
    # compares weights, Adam's slots and gradient norms of every strategy exactly.
    flags = tiny_flags(corpus_dir, batch_size=4, train_steps=STEPS, log_every_steps=1,
                       optimizer="sgd", learning_rate=1.0)
    return run_python(["-m", "tf_seq2seq.train", f"--model_dir={model_dir}", *flags, *extra])


# Slow: test_replica_equality compares one_device and mirrored exactly, in one process.
@pytest.mark.slow
def test_two_cpu_replicas_follow_the_one_replica_loss_curve(tiny_corpus, tmp_path):
    one = train_cli(tmp_path / "one", tiny_corpus, "--distribution=one_device")
    two = train_cli(tmp_path / "two", tiny_corpus, "--distribution=mirrored", "--cpu_replicas=2")
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    assert "Mirrored over" in two.stderr and "CPU:1" in two.stderr
    single, mirrored = logged_scalars(tmp_path / "one", "loss"), logged_scalars(tmp_path / "two", "loss")
    assert len(single) == len(mirrored) == STEPS
    assert single[-1] < single[0]
    np.testing.assert_allclose(mirrored, single, rtol=1e-4)


def test_more_gpus_than_present_is_a_one_line_error(tiny_corpus, tmp_path):
    result = train_cli(tmp_path / "m", tiny_corpus, "--distribution=mirrored", "--num_gpus=2")
    assert result.returncode == 2
    assert "error: --num_gpus=2 but this machine has 0 GPUs" in result.stderr
