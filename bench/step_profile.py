"""Where a training step's time goes, per precision: the GEMMs, and the rest by op type.

    taskset -c 1 .venv/bin/python bench/step_profile.py [--steps=40] [--precisions=float32,mixed_bfloat16]

Trains the peer's model (`bench/peer.py`'s settings: 2 x 256 LSTM, 10k
vocabularies, batch 64, Adam) on Multi30k for `--steps` steps per precision
under TensorFlow's profiler, and sums the profiled op time of the run by op
type over all threads (the input pipeline's included). It prints per
precision the steady step time (`training.train`'s throughput, which leaves
out the first, tracing step), the op time per step of the GEMMs (every
`MatMul` kernel) and of everything else (with its largest op types), and
across precisions the bfloat16 / float32 ratio of the step and of the GEMMs
alone, with how much the rest would have to shrink for a target ratio
(`--target_ratio`): in bfloat16 only, or by the same milliseconds in both.
Profiling adds a little time to every op; the split, not the sum, is the point.
"""

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from absl import logging  # noqa: E402

from peer import DATA, PEER_SETTINGS  # noqa: E402
from profiles import gemm_seconds, profiled  # noqa: E402
from tf_seq2seq import config as config_lib  # noqa: E402
from tf_seq2seq import training  # noqa: E402

TOP_OP_TYPES = 8


def profile(precision, steps):
    """Trains `steps` steps in `precision`; returns (steady seconds per step, op seconds by type per step)."""
    config = config_lib.Config(
        dataset=f"files:{DATA}", train_steps=steps, epochs=100, log_every_steps=10**9,
        checkpoint_every_steps=10**9, keep_checkpoints=1,
        mixed_precision="" if precision == "float32" else precision, **PEER_SETTINGS,
    )
    with tempfile.TemporaryDirectory() as model_dir:
        result, seconds = profiled(lambda: training.train(config, model_dir))
        keras.mixed_precision.set_global_policy("float32")
    return 1 / result["throughput"]["steps_per_sec"], {op: s / steps for op, s in seconds.items()}


def split(per_step):
    """(GEMM seconds, other seconds) of one step's op time by type."""
    gemm = gemm_seconds(per_step)
    return gemm, sum(per_step.values()) - gemm


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--precisions", default="float32,mixed_bfloat16")
    parser.add_argument("--target_ratio", type=float, default=1.7, help="bfloat16 / float32 step speed to aim at")
    args = parser.parse_args()
    logging.set_verbosity(logging.WARNING)
    rows = {}
    print("| precision | step ms | op ms | GEMM ms | other ms | largest other op types (ms) |")
    print("|---|---|---|---|---|---|")
    for precision in args.precisions.split(","):
        step, per_step = profile(precision, args.steps)
        gemm, other = split(per_step)
        rows[precision] = step, gemm, other
        largest = sorted(((s, op) for op, s in per_step.items() if "MatMul" not in op), reverse=True)
        top = ", ".join(f"{op} {1e3 * s:.1f}" for s, op in largest[:TOP_OP_TYPES])
        print(f"| {precision} | {1e3 * step:.1f} | {1e3 * (gemm + other):.1f} | {1e3 * gemm:.1f} "
              f"| {1e3 * other:.1f} | {top} |", flush=True)
    if {"float32", "mixed_bfloat16"} <= rows.keys():
        (step32, gemm32, other32), (step16, gemm16, other16) = rows["float32"], rows["mixed_bfloat16"]
        target = step32 / args.target_ratio
        # Cutting d from both steps: (step32 - d) / (step16 - d) = target_ratio.
        both = (args.target_ratio * step16 - step32) / (args.target_ratio - 1)
        print(f"bfloat16 / float32: step {step32 / step16:.2f}x, GEMMs alone {gemm32 / gemm16:.2f}x, "
              f"the rest {other32 / other16:.2f}x")
        if step32 / step16 >= args.target_ratio:
            print(f"{args.target_ratio}x is reached in this run")
            return
        print(f"{args.target_ratio}x needs the bfloat16 step at {1e3 * target:.1f} ms: "
              f"{1e3 * (step16 - target):.1f} ms less in bfloat16 only, or {1e3 * both:.1f} ms less in both "
              f"(non-GEMM op time today: float32 {1e3 * other32:.1f}, bfloat16 {1e3 * other16:.1f} ms)")

if __name__ == "__main__":
    main()
