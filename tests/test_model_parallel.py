"""The model's placement with --layer_devices, on logical CPU devices."""

import json

import pytest

from conftest import run_python, tiny_flags

# Builds a 2-layer model over 4 logical CPUs and reports where each op of the
# traced training computation runs, and whether it matches the functional model.
PLACEMENT = """
import json, sys
import tensorflow as tf
from tf_seq2seq import config as config_lib, distribution, model
config = config_lib.Config(num_layers=2, units=16, embedding_dim=8,
                           layer_devices="/cpu:0,/cpu:1,/cpu:2,/cpu:3", cpu_replicas=4)
distribution.make_strategy(config.replace(distribution="one_device", device="/cpu:0"))
seq2seq = model.Seq2Seq(config, 30, 40)
features = {"source": tf.constant([[5, 6, 7, 0]]), "target_in": tf.constant([[2, 8, 9]])}
graph = tf.function(seq2seq.logits).get_concrete_function(features).graph
devices = {}
for op in graph.get_operations():
    for group in ("embedding", "lstm_0", "lstm_1", "softmax"):
        if group in op.name and op.device:
            devices.setdefault(group, set()).add(op.device.split("/")[-1])
variables = {v.path: v.value.device.split("/")[-1] for v in seq2seq.training_model.weights}
same = bool(tf.reduce_all(tf.abs(seq2seq.logits(features) - seq2seq.training_model(features)) < 1e-6))
print(json.dumps({"ops": {k: sorted(v) for k, v in devices.items()}, "variables": variables,
                  "same": same}))
"""


def test_each_layer_runs_and_keeps_its_weights_on_its_device():
    result = run_python(PLACEMENT)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ops"] == {
        "embedding": ["device:CPU:0"], "lstm_0": ["device:CPU:1"],
        "lstm_1": ["device:CPU:2"], "softmax": ["device:CPU:3"],
    }
    expected = {"embedding": "CPU:0", "lstm_0": "CPU:1", "lstm_1": "CPU:2", "softmax": "CPU:3"}
    for path, device in report["variables"].items():
        group = next(g for g in expected if g in path)
        assert device == f"device:{expected[group]}", path
    assert report["same"]


def train_cli(model_dir, corpus_dir, **changes):
    flags = tiny_flags(corpus_dir, train_steps=10, log_every_steps=5, **changes)
    return run_python(["-m", "tf_seq2seq.train", f"--model_dir={model_dir}", *flags])


def test_training_with_layer_devices_matches_one_device(tiny_corpus, tmp_path):
    placed = train_cli(tmp_path / "placed", tiny_corpus, cpu_replicas=3,
                       layer_devices="/cpu:0,/cpu:1,/cpu:2,/cpu:0", distribution="one_device")
    plain = train_cli(tmp_path / "plain", tiny_corpus, distribution="one_device")
    assert placed.returncode == 0, placed.stderr[-3000:]
    assert plain.returncode == 0, plain.stderr[-3000:]
    assert placed.stdout.split("loss")[1].split(",")[0] == plain.stdout.split("loss")[1].split(",")[0]


# Slow: test_distribution.py::test_impossible_strategies_and_placements_are_refused checks
# these messages in process, test_more_gpus_than_present_is_a_one_line_error the CLI's error.
@pytest.mark.slow
def test_layer_devices_misconfigurations_are_one_line_errors(tiny_corpus, tmp_path):
    missing = train_cli(tmp_path / "a", tiny_corpus, layer_devices="/cpu:0,/gpu:3,/cpu:0,/cpu:0")
    assert missing.returncode == 2
    assert "error: --layer_devices names '/gpu:3', not a device of this machine" in missing.stderr
    count = train_cli(tmp_path / "b", tiny_corpus, layer_devices="/cpu:0,/cpu:0")
    assert count.returncode == 2 and "error: --layer_devices needs 4 devices" in count.stderr
    mirrored = train_cli(tmp_path / "c", tiny_corpus, layer_devices="/cpu:0,/cpu:1,/cpu:0,/cpu:1",
                         distribution="mirrored", cpu_replicas=2)
    assert mirrored.returncode == 2
    assert "cannot combine with --distribution=mirrored" in mirrored.stderr
