"""How fast a batch-1 beam step's softmax GEMM runs next to just reading its weights.

    taskset -c 1 .venv/bin/python bench/step_gemm.py [--rows=5] [--units=256] [--vocab=10000]

A batch-1 request at beam 5 multiplies [5, units] decoder outputs by the
[units, vocab] softmax kernel at every step: few FLOPs, the whole kernel read.
Inside a `tf.while_loop` (as in the exported beam search) this times, per
step and per precision, that GEMM, and a `reduce_max` over as many bytes of
float32 (the rate at which this core reads the kernel), and prints both as GB/s of kernel
read and their ratio: how far the GEMM is from the memory bound.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

STEPS = 30


def seconds_per_step(fn, start, repeats=5, rounds=3):
    """Best-of-`rounds` CPU-seconds of one step of a `STEPS`-step while loop of `fn`."""

    def loop(x):
        return tf.while_loop(lambda i, x: i < STEPS, lambda i, x: (i + 1, tf.tanh(fn(x))), [0, x])[1]

    compiled = tf.function(loop)
    compiled(start)
    best = float("inf")
    for _ in range(rounds):
        begin = time.process_time()
        for _ in range(repeats):
            compiled(start)
        best = min(best, (time.process_time() - begin) / (repeats * STEPS))
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5, help="beam x batch rows per step")
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--vocab", type=int, default=10000)
    args = parser.parse_args()
    for dtype in (tf.float32, tf.bfloat16):
        kernel = tf.cast(tf.random.normal([args.units, args.vocab]) * 0.05, dtype)
        start = tf.cast(tf.random.normal([args.rows, args.units]), dtype)
        gemm = seconds_per_step(lambda x: tf.matmul(x, kernel)[:, : args.units], start)
        # As many bytes in float32, whose reduce_max is vectorised (bfloat16's is not).
        same_bytes = tf.random.normal([args.units * args.vocab * dtype.size // 4])
        read = seconds_per_step(lambda x: x + tf.cast(tf.reduce_max(same_bytes) * 0, dtype), start)
        megabytes = args.units * args.vocab * dtype.size / 1e6
        print(f"{dtype.name:8s} [{args.rows}, {args.units}] x [{args.units}, {args.vocab}] "
              f"({megabytes:.1f} MB): GEMM {1e6 * gemm:6.0f} us/step ({megabytes / gemm / 1e3:5.1f} GB/s), "
              f"read {1e6 * read:6.0f} us/step ({megabytes / read / 1e3:5.1f} GB/s), "
              f"GEMM / read {gemm / read:.2f}x", flush=True)


if __name__ == "__main__":
    main()
