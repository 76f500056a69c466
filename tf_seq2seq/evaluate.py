"""Evaluates a trained model directory on a corpus split (sacrebleu BLEU and chrF).

    python -m tf_seq2seq.evaluate --model_dir=DIR --split=test [--beam_size=K]
"""

from tf_seq2seq import cli
from tf_seq2seq import evaluation
from tf_seq2seq import flags

FLAGS = flags.FLAGS


def main():
    config = flags.config_for_model_dir(FLAGS.model_dir)
    results = evaluation.evaluate(config, FLAGS.model_dir, FLAGS.split, FLAGS.translate_batch_size)
    print(
        f"{FLAGS.split}: BLEU {results['bleu']:.2f}  chrF {results['chrf']:.2f}  "
        f"({results['num_sentences']} sentences, beam {results['beam_size']}) "
        f"-> {FLAGS.model_dir}/eval_{FLAGS.split}.json"
    )


def run():
    cli.run(main, required=["model_dir"])


if __name__ == "__main__":
    run()
