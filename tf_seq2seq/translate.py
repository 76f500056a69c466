"""Translates sentences (stdin or --input, one per line) with an exported SavedModel
or a model directory's latest checkpoint.

    echo "How are you?" | python -m tf_seq2seq.translate --saved_model=saved_models/demo/1
    python -m tf_seq2seq.translate --model_dir=runs/demo --input=sentences.en

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


def _load():
    """`(model, beam_search, config)`: the loaded model (keep it alive: its
    `beam_search` function refers to it weakly), the function to call, and the
    model's config."""
    if (FLAGS.saved_model is None) == (FLAGS.model_dir is None):
        cli.fail("give exactly one of --saved_model and --model_dir")
    if FLAGS.saved_model is not None:
        model = serving.load(FLAGS.saved_model)
        return model, model.signatures["beam_search"], serving.saved_config(FLAGS.saved_model)
    config = flags.config_for_model_dir(FLAGS.model_dir)
    translator, _ = serving.translator_from_model_dir(config, FLAGS.model_dir)
    return translator, translator.beam_search, config


def main():
    model, beam_search, config = _load()  # `model` stays referenced until the end.
    if FLAGS["beam_size"].present:
        beam_size = FLAGS.beam_size
    else:
        beam_size = max(config.beam_size, FLAGS.num_hypotheses)
    results = serving.translate_texts(
        beam_search, _read_sentences(), beam_size, FLAGS.num_hypotheses, FLAGS.translate_batch_size
    )
    for index, hypotheses in enumerate(results):
        if FLAGS.num_hypotheses == 1:
            print(hypotheses[0][0])
            continue
        for rank, (text, score) in enumerate(hypotheses, start=1):
            print(f"{index}\t{rank}\t{score:.4f}\t{text}")


def run():
    cli.run(main)


if __name__ == "__main__":
    run()
