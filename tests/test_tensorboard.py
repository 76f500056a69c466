"""TensorBoard: the event files hold what the docs promise, and tensorboard serves them."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

from tf_seq2seq import training

from conftest import tiny_config

TRAIN_SCALARS = {
    "loss", "perplexity", "learning_rate", "grad_norm", "clipped_fraction",
    "target_tokens_per_sec", "source_target_tokens_per_sec", "sentences_per_sec", "step_time",
}
EVAL_SCALARS = {"bleu", "chrf", "perplexity"}


@pytest.fixture(scope="module")
def run_with_evaluation(tiny_corpus, tmp_path_factory):
    model_dir = str(tmp_path_factory.mktemp("tensorboard"))
    config = tiny_config(tiny_corpus, train_steps=20, log_every_steps=5, eval_every_steps=10)
    result = training.train(config, model_dir)
    return model_dir, result


def load_events(directory):
    accumulator = event_accumulator.EventAccumulator(
        directory, size_guidance={event_accumulator.TENSORS: 0, event_accumulator.SCALARS: 0}
    )
    return accumulator.Reload()


def scalar_values(events, tag):
    """Values of a tf.summary.scalar tag (stored as tensors in TF2 event files)."""
    return [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)]


def test_training_events_hold_scalars_graph_and_hparams(run_with_evaluation):
    model_dir, _ = run_with_evaluation
    events = load_events(os.path.join(model_dir, "train"))
    tags = events.Tags()
    assert TRAIN_SCALARS <= set(tags["tensors"])
    assert [step for step, _ in scalar_values(events, "loss")] == [5, 10, 15, 20]
    losses = [value for _, value in scalar_values(events, "loss")]
    assert losses[-1] < losses[0]
    assert all(value == pytest.approx(0.01) for _, value in scalar_values(events, "learning_rate"))
    # The traced train-step graph, shown by TensorBoard's graph dashboard.
    assert events.SummaryMetadata("train_step").plugin_data.plugin_name == "graph_run_metadata_graph"
    assert "_hparams_/session_start_info" in events.PluginTagToContent("hparams")


def test_evaluation_events_and_best_checkpoint(run_with_evaluation):
    model_dir, result = run_with_evaluation
    events = load_events(os.path.join(model_dir, "eval"))
    assert EVAL_SCALARS <= set(events.Tags()["tensors"])
    assert [step for step, _ in scalar_values(events, "bleu")] == [10, 20]
    samples = tensor_util.make_ndarray(events.Tensors("samples")[0].tensor_proto).item().decode()
    assert "| source | reference | hypothesis |" in samples
    best = json.load(open(os.path.join(model_dir, "best", "eval.json")))
    assert best["bleu"] == pytest.approx(result["best_bleu"])
    assert best["bleu"] == max(value for _, value in scalar_values(events, "bleu"))
    assert any(name.startswith(f"ckpt-{best['step']}.") for name in os.listdir(os.path.join(model_dir, "best")))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tensorboard_serves_the_scalar_tags(run_with_evaluation):
    model_dir, _ = run_with_evaluation
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", f"--logdir={model_dir}", "--host=127.0.0.1",
         f"--port={port}", "--load_fast=false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/data/plugin/scalars/tags"
        deadline, tags = time.monotonic() + 120, {}
        while time.monotonic() < deadline and not tags.get("train"):
            try:
                tags = json.load(urllib.request.urlopen(url, timeout=5))
            except OSError:
                time.sleep(0.5)
        assert TRAIN_SCALARS <= set(tags["train"])
        assert EVAL_SCALARS <= set(tags["eval"])
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_best_latest_or_a_named_checkpoint_can_be_restored(run_with_evaluation, trained_model_dir):
    from tf_seq2seq import config as config_lib
    from tf_seq2seq import serving
    from tf_seq2seq.errors import Seq2SeqError

    model_dir, result = run_with_evaluation
    config = config_lib.load(model_dir)
    best = json.load(open(os.path.join(model_dir, "best", "eval.json")))
    _, (path,) = serving.translator_from_model_dirs(config, [model_dir], "best")
    assert path == os.path.join(model_dir, "best", f"ckpt-{best['step']}")
    _, (path,) = serving.translator_from_model_dirs(config, [model_dir], "latest")
    assert path == os.path.join(model_dir, f"ckpt-{result['step']}")
    _, (named,) = serving.translator_from_model_dirs(config, [model_dir], path)
    assert named == path
    with pytest.raises(Seq2SeqError, match="no best checkpoint"):
        serving.translator_from_model_dirs(config_lib.load(trained_model_dir), [trained_model_dir], "best")
    with pytest.raises(Seq2SeqError, match="ckpt-999999 not found"):
        serving.translator_from_model_dirs(config, [model_dir], os.path.join(model_dir, "ckpt-999999"))
