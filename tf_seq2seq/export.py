"""Exports a trained model directory as a TF Serving SavedModel version.

    python -m tf_seq2seq.export --model_dir=DIR --export_dir=saved_models/NAME
    python -m tf_seq2seq.export --model_dir=DIR1,DIR2,DIR3 --export_dir=saved_models/ENSEMBLE

Several model directories sharing vocabularies export as one ensemble model
with the same signatures (per-step log-probs averaged inside one beam search).
"""

from tf_seq2seq import cli
from tf_seq2seq import flags
from tf_seq2seq import serving

FLAGS = flags.FLAGS


def main():
    cli.check_writable(FLAGS.export_dir, "--export_dir")
    model_dirs = flags.model_dirs()
    config = flags.config_for_model_dir(model_dirs[0])
    path = serving.export_model_dir(
        config, model_dirs, FLAGS.export_dir, FLAGS.checkpoint, FLAGS.warmup_xla, FLAGS.average_last_checkpoints
    )
    print(path)


def run():
    cli.run(main, reads=flags.DECODING_FLAGS + (
        "model_dir", "export_dir", "checkpoint", "average_last_checkpoints", "warmup_xla"),
            required=["model_dir", "export_dir"])


if __name__ == "__main__":
    run()
