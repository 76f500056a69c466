"""How much of a batch-1 beam-5 request is GEMM time, ours and the peer's, and what 2x the peer would leave.

    taskset -c 1 .venv/bin/python bench/gemm_share.py --saved_model=DIR/1 \
        [--peer_export=/tmp/onmt_peer/run_2000/export] [--sentences=200]

Translates the first `--sentences` Multi30k test2016 captions one request at a
time at beam 5 on one thread, through our SavedModel's `beam_search`
signature and through OpenNMT-tf's export (`../shared/peers/onmt/run.sh`
makes it; it runs in the peer's own virtualenv, `$PEER_DIR/venv`, on its
pre-tokenized reversed input), first untimed by the profiler, then under it.
Per side it prints CPU-ms per sentence, the GEMMs' share of the profiled CPU
time (every `MatMul` kernel: the LSTM gates and the softmax projection) and
that share of the untraced time. A decoder twice the peer's speed has half the
peer's CPU-ms per sentence for everything, GEMMs included; the last line says
how that budget compares with our GEMMs alone.
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from profiles import gemm_seconds, profiled  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TEST_SOURCE = os.path.join(HERE, "..", "..", "shared", "data", "multi30k_en_fr", "test2016.en")
PEER_DIR = os.environ.get("PEER_DIR", "/tmp/onmt_peer")
PEER_SOURCE = os.path.join(PEER_DIR, "data", "test2016.tok.rev.en")  # Tokenized and reversed by run.sh.
BEAM_SIZE = 5  # The peer's export has it built in (run.sh's config).
WARM_UP = 5


def ours_request(saved_model, sentences):
    """A function translating sentence i alone with our `beam_search` signature."""
    from tf_seq2seq import serving  # Not in the peer's virtualenv.

    signature = serving.load(saved_model).signatures["beam_search"]
    return lambda i: signature(sentences=tf.constant([sentences[i]]), beam_size=tf.constant(BEAM_SIZE),
                               num_hypotheses=tf.constant(1))


def peer_request(export, token_lines):
    """A function translating sentence i alone with the peer's `serving_default` signature."""
    signature = tf.saved_model.load(export).signatures["serving_default"]
    return lambda i: signature(tokens=tf.constant([token_lines[i] or [""]]),
                               length=tf.constant([len(token_lines[i])], tf.int32))


def measure(request, count):
    """CPU-seconds per request untraced and traced, and the traced GEMM seconds per request."""
    def run_all():
        start = time.process_time()
        for i in range(count):
            request(i)
        return (time.process_time() - start) / count

    for i in range(WARM_UP):
        request(i)
    untraced = run_all()
    traced, seconds = profiled(run_all)
    return {"untraced": untraced, "traced": traced, "gemm": gemm_seconds(seconds) / count}


def side_main(args):
    """Measures one side in this process and prints its figures as JSON."""
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    if args.side == "peer":
        with open(PEER_SOURCE, encoding="utf-8") as f:
            request = peer_request(args.peer_export, [line.split() for line in f.read().splitlines()])
    else:
        with open(TEST_SOURCE, encoding="utf-8") as f:
            request = ours_request(args.saved_model, f.read().splitlines())
    print(json.dumps(measure(request, args.sentences)))


def run_side(side, args, python):
    """One side's figures, measured in a fresh process of `python`."""
    command = [python, os.path.abspath(__file__), f"--side={side}", f"--sentences={args.sentences}",
               f"--saved_model={args.saved_model}", f"--peer_export={args.peer_export}"]
    env = {**os.environ, "PYTHONPATH": os.path.join(HERE, "..")}
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saved_model", required=True, help="our SavedModel version directory")
    parser.add_argument("--peer_export", default=os.path.join(PEER_DIR, "run_2000", "export"))
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--side", choices=["ours", "peer"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        return side_main(args)
    sides = {"peer": run_side("peer", args, os.path.join(PEER_DIR, "venv", "bin", "python")),
             "ours": run_side("ours", args, sys.executable)}
    print("| side | CPU-ms per sentence | sentences per CPU-s | GEMM share (profiled) | GEMM CPU-ms per sentence |")
    print("|---|---|---|---|---|")
    gemm_ms = {}
    for side, figures in sides.items():
        share = figures["gemm"] / figures["traced"]
        gemm_ms[side] = 1e3 * share * figures["untraced"]
        print(f"| {side} | {1e3 * figures['untraced']:.2f} | {1 / figures['untraced']:.1f} | {100 * share:.0f}% "
              f"| {gemm_ms[side]:.2f} |")
    budget = 1e3 * sides["peer"]["untraced"] / 2
    print(f"2x the peer: {budget:.2f} CPU-ms per sentence in all; our GEMMs alone take {gemm_ms['ours']:.2f} "
          f"({gemm_ms['ours'] / budget:.0%} of it), the peer's {gemm_ms['peer']:.2f}")


if __name__ == "__main__":
    main()
