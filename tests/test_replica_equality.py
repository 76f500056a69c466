"""Every strategy computes one device's update: 2 logical CPU replicas and 2 real workers.

After `STEPS` steps the weights, the optimizer slots and the logged gradient
norms of `mirrored` (2 logical CPUs) and `multi_worker` (2 processes on
127.0.0.1, one replica each) equal those of `one_device`, with the embeddings'
sparse gradients in play (every target starts with `<bos>` and words repeat,
so both replicas send gradient rows of the same index each step). A test also
counts the gradient all-reduces in the traced step of a 2-replica collective
strategy.

Every sentence of the corpus has 3 words, so length bucketing keeps the
shuffled stream's order: one device's batch i holds pairs 8i..8i+7 of the
stream, and so does the union of the two workers' batches i, each of which
reads every second pair (per-worker input shards).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import distribution

from conftest import logged_scalars, run_python, write_corpus

STEPS = 10
# 24 pairs of 3 words a side: subject x verb x object.
PAIRS = [(f"{s} {v} {o}", f"{sf} {vf} {of}")
         for s, sf in (("tom", "tom"), ("mary", "marie"))
         for v, vf in (("sees", "voit"), ("likes", "aime"), ("draws", "dessine"))
         for o, of in (("cats", "chats"), ("dogs", "chiens"), ("birds", "oiseaux"), ("fish", "poissons"))]
TESTS = os.path.dirname(os.path.abspath(__file__))
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

# Trains every run of RUNS (argv[3], JSON) under one_device and mirrored over 2 logical CPUs.
_LOCAL_RUNS = """
import json, sys
sys.path.insert(0, sys.argv[4])
import tensorflow as tf
from conftest import tiny_config
from tf_seq2seq import distribution, training
distribution.split_cpu(2)
corpus, out, runs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
strategies = {"one_device": tf.distribute.OneDeviceStrategy("/cpu:0"),
              "mirrored": tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])}
for run, changes in runs.items():
    for name, strategy in strategies.items():
        training.train(tiny_config(corpus, **changes), f"{out}/{run}-{name}", strategy)
"""

# One worker of a 2-worker cluster (TF_CONFIG set) training every run of argv[3].
_WORKER_RUNS = """
import json, sys
sys.path.insert(0, sys.argv[4])
from conftest import tiny_config
from tf_seq2seq import distribution, training
corpus, out, runs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
strategy = distribution.multi_worker_strategy(tiny_config(corpus, peer_timeout=60.0))
for run, changes in runs.items():
    training.train(tiny_config(corpus, **changes), f"{out}/{run}-multi_worker", strategy)
"""


def run_changes():
    return {run: dict(changes, train_steps=STEPS, batch_size=8, log_every_steps=1,
                      checkpoint_every_steps=STEPS, seed=7)
            for run, changes in RUNS.items()}


@pytest.fixture(scope="module")
def same_length_corpus(tmp_path_factory):
    """`files:` corpus directory of `PAIRS` (every split)."""
    return write_corpus(tmp_path_factory.mktemp("corpus"), {"train": PAIRS, "val": PAIRS, "test": PAIRS})


@pytest.fixture(scope="module")
def trained(same_length_corpus, tmp_path_factory):
    """Directory of `RUN-STRATEGY` model dirs, each trained `STEPS` steps."""
    out = tmp_path_factory.mktemp("replicas")
    args = [same_length_corpus, str(out), json.dumps(run_changes()), TESTS]
    # The workers train the float32 runs only: bfloat16 is compared under mirrored.
    float32 = {run: changes for run, changes in run_changes().items() if run in FLOAT32_RUNS}
    worker_args = [same_length_corpus, str(out), json.dumps(float32), TESTS]
    workers = [
        subprocess.Popen([sys.executable, "-c", _WORKER_RUNS, *worker_args], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True,
                         env=dict(os.environ, TF_CONFIG=config, TF_CPP_MIN_LOG_LEVEL="2"))
        for config in distribution.local_tf_configs(2)
    ]
    local = run_python(["-c", _LOCAL_RUNS, *args])
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


# Traces the training step under a 2-replica collective strategy (2 logical
# CPUs) and prints how many collectives carry gradients. Dense gradients are
# packed into one CollectiveReduceV2 per replica and all-reduce (its input is
# not a scalar; scalars are the token count and the metrics); each sparse
# gradient is gathered inside one `cond` (equal or padded row counts) per
# replica and all-reduce.
_COUNT_COLLECTIVES = """
import json, sys
sys.path.insert(0, sys.argv[2])
import tensorflow as tf
from conftest import tiny_config
from tf_seq2seq import corpus, distribution, model as model_lib, pipeline, tokenizer
from tf_seq2seq import model_dir as model_dir_lib
from tf_seq2seq import optimization, train_step
distribution.split_cpu(2)
# The public constructor takes its cluster from TF_CONFIG; TensorFlow's own
# tests build a one-process, two-device collective strategy this way.
strategy = tf.distribute.MultiWorkerMirroredStrategy._from_local_devices(["/cpu:0", "/cpu:1"])
config = tiny_config(sys.argv[1], batch_size=8, optimizer="adam")
model_dir = sys.argv[3]
model_dir_lib.prepare_model_dir(config, model_dir)
source, target = tokenizer.from_model_dir(model_dir, config.tokenizer)
pairs = corpus.load(config.dataset, config.train_split, config.source_lang, config.target_lang,
                    config.data_dir)
batches = pipeline.training_batches(pairs, source, target, config)
with strategy.scope():
    seq2seq = model_lib.for_model_dir(config, model_dir)
    optimizer = optimization.make_optimizer(config)
    optimizer.build(seq2seq.training_model.trainable_variables)
step = train_step.make_train_step(strategy, seq2seq, optimizer, config.clip_norm, batches.element_spec)
graph = step.get_concrete_function().graph
dense = [op for op in graph.get_operations()
         if op.type == "CollectiveReduceV2" and op.inputs[0].shape.num_elements() != 1]
branches = [f for f in graph.as_graph_def().library.function
            if any(node.op == "CollectiveGatherV2" for node in f.node_def)]
print(json.dumps({"dense": len(dense), "sparse": len(branches) // 2,
                  "replicas": strategy.num_replicas_in_sync}))
"""


def test_one_gradient_all_reduce_per_step(same_length_corpus, tmp_path):
    result = run_python(["-c", _COUNT_COLLECTIVES, same_length_corpus, TESTS, str(tmp_path / "m")])
    assert result.returncode == 0, result.stderr[-3000:]
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    replicas, sparse_gradients = 2, 2  # The source and target embeddings.
    assert counts == {"dense": replicas, "sparse": replicas * sparse_gradients, "replicas": replicas}
