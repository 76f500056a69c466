"""Translates sentences (stdin or --input, one per line) with an exported SavedModel.

    echo "How are you?" | python -m tf_seq2seq.translate --saved_model=saved_models/demo/1

Writes one translation per line; with --num_hypotheses=N > 1, N lines per
sentence: `INDEX<TAB>RANK<TAB>SCORE<TAB>TRANSLATION`, best first.
"""

import sys

from tf_seq2seq import cli
from tf_seq2seq import flags
from tf_seq2seq import serving

FLAGS = flags.FLAGS


def _read_sentences():
    if FLAGS.input is None:
        return [line.strip() for line in sys.stdin]
    try:
        with open(FLAGS.input, encoding="utf-8") as f:
            return [line.strip() for line in f]
    except FileNotFoundError:
        cli.fail(f"input file not found: {FLAGS.input}")


def main():
    model = serving.load(FLAGS.saved_model)
    if FLAGS["beam_size"].present:
        beam_size = FLAGS.beam_size
    else:
        beam_size = max(serving.saved_config(FLAGS.saved_model).beam_size, FLAGS.num_hypotheses)
    results = serving.translate_texts(
        model.signatures["beam_search"], _read_sentences(), beam_size,
        FLAGS.num_hypotheses, FLAGS.translate_batch_size,
    )
    for index, hypotheses in enumerate(results):
        if FLAGS.num_hypotheses == 1:
            print(hypotheses[0][0])
            continue
        for rank, (text, score) in enumerate(hypotheses, start=1):
            print(f"{index}\t{rank}\t{score:.4f}\t{text}")


def run():
    cli.run(main, required=["saved_model"])


if __name__ == "__main__":
    run()
