"""Every strategy computes one device's update: 2 logical CPU replicas and 2 real workers.

After `STEPS` steps the weights, the optimizer slots and the logged gradient
norms of `mirrored` (2 logical CPUs) and `multi_worker` (2 processes on
127.0.0.1, one replica each) equal those of `one_device`, with the embeddings'
sparse gradients in play (every target starts with `<bos>` and words repeat,
so both replicas send gradient rows of the same index each step).
test_train_step.py counts the gradient all-reduces in the traced step of a
2-replica collective strategy.

Every sentence of the corpus (`same_length_corpus`: `helpers.SAME_LENGTH_PAIRS`)
has 3 words, so length bucketing keeps the shuffled stream's order: one
device's batch i holds pairs 8i..8i+7 of the stream, and so does the union of
the two workers' batches i, each of which reads every second pair (per-worker
input shards).
"""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import distribution

from helpers import client, logged_scalars, python_env, run_client

STEPS = 10
# run name -> config changes. Adam at the demo's rate; SGD at a rate that moves the weights.
RUNS = {
    "sgd": dict(optimizer="sgd", learning_rate=0.5),
    "sgd_tokens": dict(optimizer="sgd", learning_rate=0.5, loss_normalization="tokens"),
    "adam": dict(optimizer="adam", learning_rate=0.003),
    "adam_bf16": dict(optimizer="adam", learning_rate=0.003, mixed_precision="mixed_bfloat16"),
}
FLOAT32_RUNS = ("sgd", "sgd_tokens", "adam")
# float32: the replicas only sum the same numbers in another order.
TOLERANCE = 1e-5
# bfloat16 keeps 8 significant bits, and a replica's GEMMs over half the batch
# block (and so round) differently from one device's over all of it: the
# gradients agree to ~2^-8 relative, and each Adam update moves a weight by at
# most ~lr, so after STEPS steps the weights agree to a few percent of
# lr x STEPS (4.5e-4 measured, 1.5e-3 allowed). The defect this guards against
# moved weights by 6.6e-2 = 2.2 x lr x STEPS.
BF16_TOLERANCE = 0.05 * RUNS["adam_bf16"]["learning_rate"] * STEPS


def run_changes():
    return {run: dict(changes, train_steps=STEPS, batch_size=8, log_every_steps=1,
                      checkpoint_every_steps=STEPS, seed=7)
            for run, changes in RUNS.items()}


@pytest.fixture(scope="module")
def trained(same_length_corpus, tmp_path_factory):
    """Directory of `RUN-STRATEGY` model dirs, each trained `STEPS` steps."""
    out = tmp_path_factory.mktemp("replicas")
    # The workers train the float32 runs only: bfloat16 is compared under mirrored.
    float32 = {run: changes for run, changes in run_changes().items() if run in FLOAT32_RUNS}
    worker_args = [same_length_corpus, str(out), json.dumps(float32)]
    workers = [
        subprocess.Popen([sys.executable, client("replicas_worker"), *worker_args], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env=python_env(TF_CONFIG=config))
        for config in distribution.local_tf_configs(2)
    ]
    local = run_client("replicas_local", same_length_corpus, out, json.dumps(run_changes()))
    outputs = [worker.communicate(timeout=600)[0] for worker in workers]
    assert local.returncode == 0, local.stderr[-3000:]
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 0, output[-3000:]
    return out


def checkpoint_values(model_dir):
    """{checkpoint key: array} of every float variable: weights, optimizer slots."""
    reader = tf.train.load_checkpoint(str(model_dir))
    return {key: reader.get_tensor(key)
            for key, dtype in reader.get_variable_to_dtype_map().items() if dtype.is_floating}


def max_difference(a, b):
    assert sorted(a) == sorted(b)
    return max(float(np.max(np.abs(a[key] - b[key]))) for key in a)


@pytest.mark.parametrize("strategy", ["mirrored", "multi_worker"])
@pytest.mark.parametrize("run", FLOAT32_RUNS)
def test_float32_replicas_equal_one_device(trained, run, strategy):
    one = checkpoint_values(trained / f"{run}-one_device")
    many = checkpoint_values(trained / f"{run}-{strategy}")
    # The comparison covers all 16 weights (the embeddings among them) and Adam's 2 slots each.
    assert sum("optimizer/_trainable_variables/" in key for key in one) == 16
    assert sum("optimizer/_variables/" in key for key in one) == (32 if run == "adam" else 0)
    assert max_difference(one, many) <= TOLERANCE
    norms_one = logged_scalars(trained / f"{run}-one_device", "grad_norm")
    norms_many = logged_scalars(trained / f"{run}-{strategy}", "grad_norm")
    assert len(norms_one) == len(norms_many) == STEPS
    np.testing.assert_allclose(norms_many, norms_one, rtol=TOLERANCE)


def test_bfloat16_replicas_equal_one_device_within_rounding(trained):
    one = checkpoint_values(trained / "adam_bf16-one_device")
    mirrored = checkpoint_values(trained / "adam_bf16-mirrored")
    float32 = checkpoint_values(trained / "adam-one_device")
    assert max_difference(one, mirrored) <= BF16_TOLERANCE
    # The replicas' disagreement is well below what bfloat16 itself changes.
    assert max_difference(one, mirrored) < 0.5 * max_difference(one, float32)
