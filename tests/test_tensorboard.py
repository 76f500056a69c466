"""TensorBoard: the event files hold what the docs promise, and tensorboard serves them.

The HParams and custom-scalars layout a run starts with are tested in test_dashboards.py.
"""

import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from tensorboard.util import tensor_util

from tf_seq2seq import validation

from helpers import EVAL_SENTENCES, PAIRS, load_events

TRAIN_SCALARS = {
    "loss", "perplexity", "learning_rate", "grad_norm", "clipped_fraction",
    "target_tokens_per_sec", "source_target_tokens_per_sec", "sentences_per_sec", "step_time",
}
EVAL_SCALARS = {"bleu", "chrf", "perplexity", "loss"}


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


def test_evaluation_events_and_best_checkpoint(run_with_evaluation):
    model_dir, result = run_with_evaluation
    events = load_events(os.path.join(model_dir, "eval"))
    assert EVAL_SCALARS <= set(events.Tags()["tensors"])
    assert [step for step, _ in scalar_values(events, "bleu")] == [10, 20]
    for (_, loss), (_, perplexity) in zip(scalar_values(events, "loss"), scalar_values(events, "perplexity")):
        assert loss == pytest.approx(math.log(perplexity), rel=1e-5)
    samples = tensor_util.make_ndarray(events.Tensors("samples")[0].tensor_proto).item().decode()
    assert "| source | reference | hypothesis |" in samples
    # The evaluated sentences are spread over the split, not its first EVAL_SENTENCES.
    chosen = validation.sample_evenly(len(PAIRS), EVAL_SENTENCES)
    sampled = [row.split(" | ")[0].lstrip("| ") for row in samples.splitlines()[2:]]
    assert sampled == [PAIRS[i][0] for i in chosen][: validation.SAMPLES]
    assert sampled != [en for en, _ in PAIRS[: validation.SAMPLES]]
    best = json.load(open(os.path.join(model_dir, "best", "eval.json")))
    assert best["bleu"] == pytest.approx(result["best_bleu"])
    assert best["bleu"] == max(value for _, value in scalar_values(events, "bleu"))
    assert any(name.startswith(f"ckpt-{best['step']}.") for name in os.listdir(os.path.join(model_dir, "best")))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_json(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=30))


def test_tensorboard_serves_the_scalars_layout_and_hparams_by_bleu(run_with_evaluation):
    model_dir, _ = run_with_evaluation
    port = free_port()
    # The parent of model directories, as README says to compare runs.
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", f"--logdir={os.path.dirname(model_dir)}",
         "--host=127.0.0.1", f"--port={port}", "--load_fast=false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/data/plugin"
        deadline, tags = time.monotonic() + 120, {}
        while time.monotonic() < deadline and not tags.get("tiny/eval"):
            try:
                tags = json.load(urllib.request.urlopen(f"{base}/scalars/tags", timeout=5))
            except OSError:
                time.sleep(0.5)
        assert TRAIN_SCALARS <= set(tags["tiny/train"])
        assert EVAL_SCALARS <= set(tags["tiny/eval"])
        layout = json.load(urllib.request.urlopen(f"{base}/custom_scalars/layout", timeout=30))
        assert [chart["title"] for chart in layout["category"][0]["chart"]] == [
            "loss (train, eval)", "perplexity (train, eval)", "BLEU (eval)", "learning rate"
        ]
        groups = post_json(f"{base}/hparams/session_groups", {
            "experimentName": "", "startIndex": 0, "sliceSize": 10,
            "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
        })["sessionGroups"]
        assert [session["name"] for session in groups[0]["sessions"]] == ["tiny"]
        values = {(m["name"]["group"], m["name"]["tag"]): m["value"] for m in groups[0]["metricValues"]}
        bleu = scalar_values(load_events(os.path.join(model_dir, "eval")), "bleu")[-1][1]
        assert values[("eval", "bleu")] == pytest.approx(bleu)
        assert {("eval", "chrf"), ("eval", "perplexity"), ("train", "loss")} <= set(values)
        assert groups[0]["hparams"]["eval_sentences"] == EVAL_SENTENCES
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_best_latest_or_a_named_checkpoint_can_be_restored(run_with_evaluation, trained_model_dir):
    from tf_seq2seq import config as config_lib
    from tf_seq2seq import loading
    from tf_seq2seq.errors import Seq2SeqError

    model_dir, result = run_with_evaluation
    config = config_lib.load(model_dir)
    best = json.load(open(os.path.join(model_dir, "best", "eval.json")))
    _, (path,) = loading.from_model_dirs(config, [model_dir], "best")
    assert path == os.path.join(model_dir, "best", f"ckpt-{best['step']}")
    _, (path,) = loading.from_model_dirs(config, [model_dir], "latest")
    assert path == os.path.join(model_dir, f"ckpt-{result['step']}")
    _, (named,) = loading.from_model_dirs(config, [model_dir], path)
    assert named == path
    with pytest.raises(Seq2SeqError, match="no best checkpoint"):
        loading.from_model_dirs(config_lib.load(trained_model_dir), [trained_model_dir], "best")
    with pytest.raises(Seq2SeqError, match="ckpt-999999 not found"):
        loading.from_model_dirs(config, [model_dir], os.path.join(model_dir, "ckpt-999999"))
