"""Evaluates a model (sacrebleu BLEU and chrF) on a corpus split or on two text files.

    python -m tf_seq2seq.evaluate --model_dir=DIR --split=test [--beam_size=K]
    python -m tf_seq2seq.evaluate --saved_model=saved_models/demo/1 --split=test --output_dir=OUT
    python -m tf_seq2seq.evaluate --model_dir=DIR --source_file=F.en --reference_file=F.fr
    python -m tf_seq2seq.evaluate --model_dir=DIR1,DIR2 --split=test --output_dir=OUT  # ensemble

Writes OUTPUT_DIR/eval_NAME.json and eval_NAME.hyp, where OUTPUT_DIR defaults to
--model_dir and NAME is the split or the source file's name. With one --model_dir
the JSON also holds the teacher-forced `perplexity` of the references. With
--num_hypotheses=N > 1 the N best translations of each sentence also go to
eval_NAME.nbest (TSV: index, rank, score, translation).
"""

import os

from tf_seq2seq import cli  # isort: skip  (first: it quietens TensorFlow's import)

from tf_seq2seq import evaluation
from tf_seq2seq import flags

FLAGS = flags.FLAGS


def _eval_set(config):
    """`(name, eval_set, details)`: the `evaluation.EvalSet` to evaluate on, named."""
    if (FLAGS.source_file is None) != (FLAGS.reference_file is None):
        cli.fail("--source_file and --reference_file go together")
    if FLAGS.source_file is not None:
        name = os.path.basename(FLAGS.source_file)
        references = evaluation.read_file_references(FLAGS.source_file, FLAGS.reference_file)
        return name, evaluation.eval_set(*references), {"source_file": FLAGS.source_file}
    eval_set = evaluation.read_eval_set(config, FLAGS.split)
    return FLAGS.split, eval_set, {"split": FLAGS.split, "dataset": config.dataset}


def main():
    single_model_dir = FLAGS.model_dir is not None and len(flags.model_dirs()) == 1
    output_dir = FLAGS.output_dir or (FLAGS.model_dir if single_model_dir else None)
    if output_dir is None:
        cli.fail("--output_dir is needed with --saved_model or an ensemble --model_dir")
    cli.check_writable(output_dir, "--output_dir" if FLAGS.output_dir else "--model_dir")
    model, beam_search, config = cli.load_model()  # `model` stays referenced until the end.
    name, eval_set, details = _eval_set(config)
    # A SavedModel has no teacher-forcing signature; an ensemble no single softmax.
    if single_model_dir:
        details["perplexity"] = evaluation.Perplexity(
            model.keras_models[0], model.source_tokenizer, model.target_tokenizer, config, eval_set.pairs
        )()
    prefix = os.path.join(output_dir, f"eval_{name}")
    model_path = FLAGS.saved_model or FLAGS.model_dir
    results = evaluation.evaluate(
        beam_search, eval_set.sources, eval_set.references, flags.nbest_beam_size(config), prefix,
        FLAGS.translate_batch_size, FLAGS.num_hypotheses, model=model_path, **details,
    )
    print(
        f"{name}: BLEU {results['bleu']:.2f}  chrF {results['chrf']:.2f}  "
        f"({results['num_sentences']} sentences, beam {results['beam_size']}) -> {prefix}.json"
    )


def run():
    cli.run(main, reads=flags.TRANSLATION_FLAGS + (
        "saved_model", "model_dir", "checkpoint", "average_last_checkpoints", "split", "source_file",
        "reference_file", "output_dir", "num_hypotheses", "translate_batch_size"))


if __name__ == "__main__":
    run()
