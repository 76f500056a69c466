"""Exports a trained model directory as a TF Serving SavedModel version.

    python -m tf_seq2seq.export --model_dir=DIR --export_dir=saved_models/NAME
"""

from tf_seq2seq import cli
from tf_seq2seq import flags
from tf_seq2seq import serving

FLAGS = flags.FLAGS


def main():
    config = flags.config_for_model_dir(FLAGS.model_dir)
    path = serving.export_model_dir(config, FLAGS.model_dir, FLAGS.export_dir)
    print(path)


def run():
    cli.run(main, required=["model_dir", "export_dir"])


if __name__ == "__main__":
    run()
