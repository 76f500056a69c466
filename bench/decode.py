"""Decoding speed of an exported SavedModel: greedy and beam 2/5/12, batch 1 and 64, with and without XLA.

    .venv/bin/python -m tf_seq2seq.export --model_dir=DIR --export_dir=/tmp/bench --jit_compile
    .venv/bin/python bench/decode.py --saved_model=/tmp/bench/1

Translates a fixed set of sentences (the first 500 of Multi30k test2016 by
default) through the `beam_search` signature and, when the export has it,
`beam_search_xla`, after one untimed warm-up call per setting (tracing, XLA
compilation). Prints sentences/s and output words/s per setting.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from tf_seq2seq import corpus, serving  # noqa: E402

MULTI30K_TEST = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "multi30k_en_fr", "test2016.en"
)
BEAMS = (1, 2, 5, 12)
BATCHES = (1, 64)


def translate_all(signature, sentences, beam_size, batch_size):
    """Translates `sentences` in batches; returns (seconds, output words)."""
    words = 0
    start = time.perf_counter()
    for begin in range(0, len(sentences), batch_size):
        outputs = signature(
            sentences=tf.constant(sentences[begin : begin + batch_size]),
            beam_size=tf.constant(beam_size), num_hypotheses=tf.constant(1),
        )
        words += sum(len(t.split()) for t in outputs["translations"].numpy()[:, 0])
    return time.perf_counter() - start, words


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saved_model", required=True)
    parser.add_argument("--source_file", default=MULTI30K_TEST)
    parser.add_argument("--sentences", type=int, default=500)
    args = parser.parse_args()
    model = serving.load(args.saved_model)
    sentences = corpus.read_lines(args.source_file)[: args.sentences]
    names = [name for name in ("beam_search", "beam_search_xla") if name in model.signatures]
    print(f"{len(sentences)} sentences from {args.source_file}; signatures: {', '.join(names)}")
    print(f"{'signature':16s} {'beam':>4s} {'batch':>5s} {'sent/s':>8s} {'words/s':>8s} {'ms/sent':>8s}")
    for name in names:
        signature = model.signatures[name]
        for beam_size in BEAMS:
            for batch_size in BATCHES:
                translate_all(signature, sentences[:batch_size], beam_size, batch_size)  # Warm-up.
                seconds, words = translate_all(signature, sentences, beam_size, batch_size)
                print(f"{name:16s} {beam_size:4d} {batch_size:5d} {len(sentences) / seconds:8.1f} "
                      f"{words / seconds:8.0f} {1000 * seconds / len(sentences):8.1f}", flush=True)


if __name__ == "__main__":
    main()
