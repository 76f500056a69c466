"""Trains a sequence-to-sequence model.

    python -m tf_seq2seq.train --flagfile=pipelines/demo.flags --model_dir=DIR
"""

from tf_seq2seq import cli
from tf_seq2seq import distribution
from tf_seq2seq import flags
from tf_seq2seq import training

FLAGS = flags.FLAGS


def main():
    cli.check_writable(FLAGS.model_dir, "--model_dir")
    config = flags.config_from_flags()
    strategy = distribution.make_strategy(config)  # First: it may configure devices.
    result = training.train(config, FLAGS.model_dir, strategy)
    loss = "n/a" if result["loss"] is None else f"{result['loss']:.4f}"
    print(
        f"trained {FLAGS.model_dir}: step {result['step']}, epoch {result['epochs']:.2f}, loss {loss}, "
        f"{result['seconds']:.0f}s"
    )


def run():
    cli.run(main, reads=flags.CONFIG_FLAGS + ("model_dir",), required=["model_dir"])


if __name__ == "__main__":
    run()
