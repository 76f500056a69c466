"""Data-parallel scaling of the one training loop: 1 replica, 2 replicas, 2 local workers.

    .venv/bin/python bench/scaling.py [--dataset=files:DIR] [--steps=N]

Trains the same model on the same global batch for each setup (each in fresh
processes), and prints steady-state steps/s, target tokens/s, the extra time
per step against one replica (what splitting the batch and all-reducing the
gradients costs), and the all-reduce share of the step: the time of the
step's one gradient all-reduce (`optimization.sum_over_replicas` on tensors shaped
like the model's gradients, the embeddings' as rows of one replica's tokens)
over the step time. On a machine with 2 CPU cores the replicas share those
cores, so no speed-up is possible: the numbers measure the overhead only.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

from tf_seq2seq import distribution

MULTI30K = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "multi30k_en_fr")

# Runs in a child process: trains with the given config fields, then times the
# gradient all-reduce alone; prints the throughput and that time as JSON.
CHILD = """
import json, statistics, sys, time
import tensorflow as tf
from tf_seq2seq import config as config_lib, distribution, model as model_lib, optimization, training
config = config_lib.Config(**json.loads(sys.argv[1]))
model_dir = sys.argv[2]
strategy = distribution.make_strategy(config)
result = training.train(config, model_dir, strategy)
with strategy.scope():
    variables = model_lib.for_model_dir(config, model_dir).training_model.trainable_variables
rows = max(1, round(result["target_tokens"] / result["step"] / strategy.num_replicas_in_sync))

def gradients():
    grads = [tf.IndexedSlices(tf.ones([rows, v.shape[1]]), tf.range(rows), tf.constant(list(v.shape)))
             if "embedding" in v.path else tf.zeros(list(v.shape)) for v in variables]
    return optimization.sum_over_replicas(tf.distribute.get_replica_context(), grads)

reduce = tf.function(lambda: strategy.run(gradients))
reduce()
times = []
for _ in range(20):
    start = time.perf_counter()
    reduce()
    times.append(time.perf_counter() - start)
if distribution.is_chief(strategy):
    print(json.dumps(dict(result["throughput"], all_reduce_sec=statistics.median(times))))
"""

SETUPS = [
    ("1 replica", {"distribution": "one_device"}, 1),
    ("2 replicas (logical CPUs)", {"distribution": "mirrored", "cpu_replicas": 2}, 1),
    ("2 workers on 127.0.0.1", {"distribution": "multi_worker"}, 2),
]


def run_setup(config, processes, model_dir):
    """Runs `processes` training processes (a cluster if > 1); returns the chief's throughput."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    tf_configs = distribution.local_tf_configs(processes) if processes > 1 else [None]
    children = []
    for tf_config in tf_configs:
        if tf_config:
            env["TF_CONFIG"] = tf_config
        children.append(subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(config), model_dir],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(env),
        ))
    outputs = [child.communicate()[0] for child in children]
    for child in children:
        if child.returncode != 0:
            raise SystemExit(f"a training process failed (exit {child.returncode}); rerun it by hand")
    return json.loads(outputs[0].strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=f"files:{MULTI30K}")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch_size", type=int, default=64)
    args = parser.parse_args()
    base = dict(
        dataset=args.dataset, train_split="train", num_layers=2, units=256, embedding_dim=256,
        source_vocab_size=8000, target_vocab_size=8000, batch_size=args.batch_size,
        train_steps=args.steps, log_every_steps=args.steps, checkpoint_every_steps=10**9,
        epochs=100,
    )
    print(f"2x256 LSTM, vocab 8k, global batch {args.batch_size}, {args.steps} steps, "
          f"{os.cpu_count()} CPU cores")
    print(f"{'setup':28s} {'steps/s':>8s} {'tgt tok/s':>10s} {'ms/step':>8s} {'overhead ms/step':>17s}"
          f" {'all-reduce ms':>14s} {'all-reduce share':>17s}")
    baseline = None
    for name, changes, processes in SETUPS:
        with tempfile.TemporaryDirectory() as model_dir:
            rates = run_setup({**base, **changes}, processes, model_dir)
        step_ms = 1000.0 / rates["steps_per_sec"]
        baseline = baseline if baseline is not None else step_ms
        reduce_ms = 1000.0 * rates["all_reduce_sec"]
        print(f"{name:28s} {rates['steps_per_sec']:8.2f} {rates['target_tokens_per_sec']:10.0f} "
              f"{step_ms:8.1f} {step_ms - baseline:17.1f} {reduce_ms:14.1f} {reduce_ms / step_ms:17.1%}")


if __name__ == "__main__":
    main()
