"""The model's placement with --layer_devices, on logical CPU devices."""

import pytest

from helpers import last_json, run_client, run_python, tiny_flags


def test_each_layer_runs_and_keeps_its_weights_on_its_device():
    report = last_json(run_client("layer_placement"))
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
