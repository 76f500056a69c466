"""Trains a sequence-to-sequence model.

    python -m tf_seq2seq.train --flagfile=pipelines/demo.flags --model_dir=DIR

A run stopped by SIGINT or SIGTERM (a scheduler's preemption) saves a
checkpoint, says at which step it stopped and exits with status 128 + the
signal's number (130, 143), so that a scheduler restarting failed runs runs
the same command again, which resumes.
"""

import sys

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
    if result["stopped_by"]:
        _stopped(result)
    loss = "n/a" if result["loss"] is None else f"{result['loss']:.4f}"
    print(
        f"trained {FLAGS.model_dir}: step {result['step']}, epoch {result['epochs']:.2f}, loss {loss}, "
        f"{result['seconds']:.0f}s"
    )


def _stopped(result):
    """Says where a run stopped by a signal is and exits with the signal's status."""
    stop = result["stopped_by"]
    of_total = f" of {result['total_steps']}" if result["total_steps"] else ""
    print(
        f"stopped by {stop.signal.name} at step {result['step']}{of_total} (checkpoint saved in "
        f"{FLAGS.model_dir}); run the same command to resume", file=sys.stderr,
    )
    sys.exit(stop.exit_status())


def run():
    cli.run(main, reads=flags.CONFIG_FLAGS + ("model_dir",), required=["model_dir"])


if __name__ == "__main__":
    run()
