"""Translates sentences (stdin or --input, one per line) with an exported SavedModel
or a model directory's latest checkpoint.

    echo "How are you?" | python -m tf_seq2seq.translate --saved_model=saved_models/demo/1
    python -m tf_seq2seq.translate --model_dir=runs/demo --input=sentences.en

Writes one translation per line; with --num_hypotheses=N > 1, N lines per
sentence: `INDEX<TAB>RANK<TAB>SCORE<TAB>TRANSLATION`, best first.
"""

import os
import sys

from tf_seq2seq import cli
from tf_seq2seq import corpus
from tf_seq2seq import flags
from tf_seq2seq import inference

FLAGS = flags.FLAGS


def _read_sentences():
    """The input sentences, stripped; invalid UTF-8 is repaired with a warning naming the line."""
    if FLAGS.input is None:
        return [line.strip() for line in corpus.decode_lines(sys.stdin.buffer, "<stdin>", repair=True)]
    if not os.path.isfile(FLAGS.input):
        cli.fail(f"input file not found: {FLAGS.input}")
    return corpus.read_lines(FLAGS.input, repair=True)


def main():
    model, beam_search, config = cli.load_model()  # `model` stays referenced until the end.
    results = inference.translate_texts(
        beam_search, _read_sentences(), flags.nbest_beam_size(config), FLAGS.num_hypotheses,
        FLAGS.translate_batch_size,
    )
    if FLAGS.num_hypotheses == 1:
        lines = [hypotheses[0][0] for hypotheses in results]
    else:
        lines = inference.nbest_lines(results)
    for line in lines:
        print(line)


def run():
    cli.run(main, reads=flags.TRANSLATION_FLAGS + (
        "saved_model", "model_dir", "checkpoint", "average_last_checkpoints", "input", "num_hypotheses",
        "translate_batch_size"))


if __name__ == "__main__":
    run()
