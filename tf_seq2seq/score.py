"""Scores given translations with a model (teacher forcing), or re-ranks a Moses n-best list with it.

    python -m tf_seq2seq.score --model_dir=DIR --source=test.en --target=test.fr
    python -m tf_seq2seq.score --saved_model=saved_models/demo/1 --source=test.en \
        --nbest=baseline.nbest --weights=total=0.5,seq2seq=0.5 --nbest_output=rescored.nbest > rescored.fr

With --target: one score per line, the translation's summed token log-prob
(`<eos>` included; normalised if --length_penalty is set), from the model or
the ensemble DIR1,DIR2,... (per-step log-probs averaged as in decoding).

With --nbest: each hypothesis gets our score as a new feature (`seq2seq=`,
--feature_name), a new total `sum(weight x value)` over the --weights
(`total` is the list's own score), and each sentence's hypotheses are
re-ranked by it; the best of each sentence goes to stdout, one per line of
--source, and the whole re-ranked list to --nbest_output.
"""

import os

from tf_seq2seq import cli  # isort: skip  (first: it quietens TensorFlow's import)

from tf_seq2seq import corpus
from tf_seq2seq import flags
from tf_seq2seq import inference
from tf_seq2seq import nbest

FLAGS = flags.FLAGS


def _read(path, flag):
    """The lines of a file given by `--flag`, stripped."""
    if not os.path.isfile(path):
        cli.fail(f"--{flag}: file not found: {path}")
    return corpus.read_lines(path)


def _score_pairs(sources, targets):
    """Our score of each (source, target) pair: its normalised score (the log-prob at length penalty 0)."""
    model, score_fn, _ = cli.load_model("score")  # `model` stays referenced while scoring.
    scores = inference.score_texts(score_fn, sources, targets, FLAGS.translate_batch_size)
    return [normalized for normalized, _, _ in scores]


def _score_targets(sources):
    targets = _read(FLAGS.target, "target")
    if len(targets) != len(sources):
        cli.fail(f"{FLAGS.source} has {len(sources)} lines but {FLAGS.target} has {len(targets)}")
    for score in _score_pairs(sources, targets):
        print(f"{score:.6f}")


def _rescore_nbest(sources):
    weights = nbest.parse_weights(FLAGS.weights)
    entries = nbest.parse(_read(FLAGS.nbest, "nbest"), FLAGS.nbest)
    for entry in entries:
        if entry.sentence >= len(sources):
            cli.fail(f"{FLAGS.nbest}:{entry.line}: sentence id {entry.sentence} but {FLAGS.source} has "
                     f"{len(sources)} lines")
    scores = _score_pairs([sources[e.sentence] for e in entries], [e.hypothesis for e in entries])
    entries = nbest.rerank(nbest.add_feature(entries, FLAGS.feature_name, scores, FLAGS.nbest), weights,
                           FLAGS.nbest)
    if FLAGS.nbest_output:
        os.makedirs(os.path.dirname(FLAGS.nbest_output) or ".", exist_ok=True)
        with open(FLAGS.nbest_output, "w", encoding="utf-8") as f:
            f.writelines(nbest.format_entry(entry) + "\n" for entry in entries)
    for line in nbest.best(entries, len(sources)):
        print(line)


def main():
    if (FLAGS.target is None) == (FLAGS.nbest is None):
        cli.fail("give exactly one of --target and --nbest")
    sources = _read(FLAGS.source, "source")
    if FLAGS.target is not None:
        _score_targets(sources)
    else:
        _rescore_nbest(sources)


def run():
    cli.run(main, reads=flags.TRANSLATION_FLAGS + (
        "saved_model", "model_dir", "checkpoint", "average_last_checkpoints", "source", "target", "nbest",
        "weights", "feature_name", "nbest_output", "translate_batch_size"), required=["source"])


if __name__ == "__main__":
    run()
