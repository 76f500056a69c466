"""distribution: TF_CONFIG and ports checked, and the same training loop under several
`tf.distribute` strategies (logical CPU devices)."""

import json
import socket

import numpy as np
import pytest

from tf_seq2seq import config as config_lib
from tf_seq2seq import distribution
from tf_seq2seq.errors import Seq2SeqError

from helpers import BAD_TF_CONFIGS, logged_scalars, run_python, tiny_flags

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


def test_tf_config_of_a_local_cluster_names_each_task_and_its_peers():
    configs = distribution.local_tf_configs(3)
    addresses = json.loads(configs[0])["cluster"]["worker"]
    assert len(set(addresses)) == 3 and all(a.startswith("127.0.0.1:") for a in addresses)
    for index, config in enumerate(configs):
        task = distribution.cluster_task(config)
        assert task == distribution.Task("worker", index, addresses[index],
                                         tuple(a for a in addresses if a != addresses[index]))
    chief = '{"cluster": {"chief": ["a:1"], "worker": ["b:2", "c:3"]}, "task": {"type": "chief", "index": 0}}'
    assert distribution.cluster_task(chief) == distribution.Task("chief", 0, "a:1", ("b:2", "c:3"))


@pytest.mark.parametrize("config, message", BAD_TF_CONFIGS)
def test_bad_tf_config_is_refused_naming_the_problem(config, message):
    with pytest.raises(Seq2SeqError) as error:
        distribution.cluster_task(config)
    assert str(error.value).startswith(message)


def test_a_port_in_use_is_refused():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        with pytest.raises(Seq2SeqError, match=f"cannot listen on {address} \\(TF_CONFIG\\): "):
            distribution.check_port_free(address)
    distribution.check_port_free(address)  # Free again once closed.


def test_impossible_strategies_and_placements_are_refused():
    def strategy(**changes):
        return distribution.make_strategy(config_lib.Config(**changes))

    with pytest.raises(Seq2SeqError, match="^--distribution='ps': expected one of 'auto'"):
        strategy(distribution="ps")
    with pytest.raises(Seq2SeqError, match="^--num_gpus=2 but this machine has 0 GPUs$"):
        strategy(distribution="mirrored", num_gpus=2)
    with pytest.raises(Seq2SeqError, match="cannot combine with --distribution=mirrored$"):
        strategy(distribution="mirrored", layer_devices="/cpu:0,/cpu:0,/cpu:0,/cpu:0")
    with pytest.raises(Seq2SeqError, match="^--layer_devices names '/gpu:3', not a device of this machine"):
        strategy(distribution="one_device", layer_devices="/cpu:0,/gpu:3,/cpu:0,/cpu:0")
    with pytest.raises(Seq2SeqError, match="^--layer_devices needs 4 devices"):
        strategy(distribution="one_device", layer_devices="/cpu:0,/cpu:0")
