"""Training throughput of the real training loop, and how close it gets to the machine's peak.

    .venv/bin/python bench/train_throughput.py [--dataset=files:DIR] [--step_scale=X]
        [--precisions=float32,mixed_bfloat16] [--sizes=2x256]

For each model size and precision it trains a few steps on the recipe's data
(after one warm-up step that traces the graph), then prints target tokens/s,
source+target tokens/s, the model's FLOP/s (3 x forward matmul FLOPs per token:
forward, and backward for activations and weights) and that as a fraction of a
large matmul's FLOP/s in the precision's compute dtype, measured in the same
run (the practical peak: on this project's CPU bfloat16's is ~1.8x float32's,
which bounds what bfloat16 can gain), and each precision's target tokens/s
over float32's.
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import logging  # noqa: E402

from tf_seq2seq import config as config_lib  # noqa: E402
from tf_seq2seq import training  # noqa: E402

MULTI30K = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "multi30k_en_fr")
# (name, layers, units, embedding, source vocab, target vocab, batch size, steps)
SIZES = [
    ("2x256", 2, 256, 256, 8000, 8000, 64, 60),
    ("4x1000 (vocab 8k)", 4, 1000, 1000, 8000, 8000, 32, 8),
]


def matmul_peak(dtype="float32", n=2048, repeats=20):
    """FLOP/s of an n x n matmul in `dtype` (best of `repeats`)."""
    a = tf.cast(tf.random.normal([n, n]), dtype)
    b = tf.cast(tf.random.normal([n, n]), dtype)
    matmul = tf.function(lambda: tf.reduce_sum(tf.cast(tf.matmul(a, b), tf.float32)))
    matmul()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul().numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def forward_macs_per_token(layers, units, embedding, target_vocab):
    """Multiply-adds per source token and per target token of one forward pass."""
    lstm = sum(4 * units * ((embedding if i == 0 else units) + units) for i in range(layers))
    return lstm, lstm + units * target_vocab


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=f"files:{MULTI30K}")
    parser.add_argument("--step_scale", type=float, default=1.0, help="multiplies each size's steps")
    parser.add_argument("--precisions", default="float32,mixed_bfloat16",
                        help="comma-separated: float32, mixed_bfloat16, mixed_float16")
    parser.add_argument("--sizes", default="", help="comma-separated size names (default: all)")
    args = parser.parse_args()
    logging.set_verbosity(logging.WARNING)
    precisions = args.precisions.split(",")
    compute_dtypes = {precision: keras.mixed_precision.Policy(precision).compute_dtype for precision in precisions}
    peaks = {dtype: matmul_peak(dtype) for dtype in sorted(set(compute_dtypes.values()))}
    print("matmul peak: " + ", ".join(f"{dtype} {peak / 1e9:.1f} GFLOP/s" for dtype, peak in peaks.items())
          + f" ({os.cpu_count()} CPUs)")
    print("| model | precision | batch | steps/s | target tok/s | src+tgt tok/s | model GFLOP/s "
          "| of its dtype's peak | tok/s vs float32 |")
    print("|---|---|---|---|---|---|---|---|---|")
    sizes = [size for size in SIZES if not args.sizes or size[0] in args.sizes.split(",")]
    for name, layers, units, embedding, source_vocab, target_vocab, batch_size, steps in sizes:
        steps = max(2, round(steps * args.step_scale))
        float32_rate = None
        for precision in precisions:
            config = config_lib.Config(
                dataset=args.dataset, num_layers=layers, units=units, embedding_dim=embedding,
                source_vocab_size=source_vocab, target_vocab_size=target_vocab,
                batch_size=batch_size, train_steps=steps + 1, epochs=100,
                log_every_steps=10**9, checkpoint_every_steps=10**9, keep_checkpoints=1,
                mixed_precision="" if precision == "float32" else precision,
            )
            with tempfile.TemporaryDirectory() as model_dir:
                result = training.train(config, model_dir)
            keras.mixed_precision.set_global_policy("float32")
            rates = result["throughput"]
            source_macs, target_macs = forward_macs_per_token(layers, units, embedding, target_vocab)
            target_rate = rates["target_tokens_per_sec"]
            source_rate = rates["source_target_tokens_per_sec"] - target_rate
            flops = 3 * 2 * (source_macs * source_rate + target_macs * target_rate)
            float32_rate = target_rate if precision == "float32" else float32_rate
            ratio = f"{target_rate / float32_rate:.2f}x" if float32_rate else "-"
            print(
                f"| {name} | {precision} | {batch_size} | {rates['steps_per_sec']:.2f} | "
                f"{target_rate:.0f} | {rates['source_target_tokens_per_sec']:.0f} | "
                f"{flops / 1e9:.1f} | {flops / peaks[compute_dtypes[precision]]:.0%} | {ratio} |", flush=True,
            )


if __name__ == "__main__":
    main()
