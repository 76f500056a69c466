"""Two SavedModels' beam search against each other in one process, alternated, for small differences.

    taskset -c 1 .venv/bin/python bench/decode_ab.py --a=OLD/1 --b=NEW/1 [--batch_sizes=32,1] [--rounds=2]
        [--signature=beam_search_xla]

Two exports of the same weights (e.g. from two checkouts) decode the 1000
Multi30k test2016 sentences through one signature of each (`beam_search`, or
`--signature`: `beam_search_full_softmax`, or `beam_search_xla` of
`--jit_compile` exports) at beam 5, in chunks (64 sentences at batch size > 1,
10 at batch 1) that alternate A, B and B, A, so the machine's load drifts over
both alike. Per batch size it
prints each model's sentences per CPU-second of this process, B's speed over
A's, in how many chunks A was faster, and how many best translations are
identical. Separate processes (`bench/peer.py --decode_only`) vary by more
than a few percent on a shared machine; alternating chunks in one process
shows differences of 1-2%.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from peer import DATA, timed_translations, warm_up  # noqa: E402
from tf_seq2seq import corpus, serving  # noqa: E402

BEAM_SIZE = 5


def compare(signatures, sentences, batch_size, rounds):
    """Prints the A/B line of one batch size."""
    chunk = 64 if batch_size > 1 else 10
    for signature in signatures.values():
        warm_up(signature, sentences, BEAM_SIZE, batch_size)
    seconds = {name: [] for name in signatures}
    best = {name: [] for name in signatures}
    for round_ in range(rounds):
        for index, begin in enumerate(range(0, len(sentences), chunk)):
            for name in ("A", "B") if (index + round_) % 2 == 0 else ("B", "A"):
                spent, translations = timed_translations(
                    signatures[name], sentences[begin : begin + chunk], BEAM_SIZE, batch_size
                )
                seconds[name].append(spent)
                if round_ == 0:
                    best[name] += translations
    rate = {name: rounds * len(sentences) / sum(spent) for name, spent in seconds.items()}
    a_faster = sum(a < b for a, b in zip(seconds["A"], seconds["B"]))
    same = sum(a == b for a, b in zip(best["A"], best["B"]))
    print(f"batch {batch_size}: A {rate['A']:.1f}, B {rate['B']:.1f} sentences per CPU-second; "
          f"B / A {rate['B'] / rate['A']:.3f}; A faster in {a_faster} of {len(seconds['A'])} chunks; "
          f"identical translations {same} of {len(sentences)}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="SavedModel version directory A")
    parser.add_argument("--b", required=True, help="SavedModel version directory B")
    parser.add_argument("--batch_sizes", default="32,1")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--signature", default="beam_search", help="the signature compared")
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    signatures = {name: serving.load(path).signatures[args.signature] for name, path in (("A", args.a), ("B", args.b))}
    sentences = corpus.read_lines(os.path.join(DATA, "test2016.en"))
    for batch_size in map(int, args.batch_sizes.split(",")):
        compare(signatures, sentences, batch_size, args.rounds)


if __name__ == "__main__":
    main()
