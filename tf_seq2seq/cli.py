"""What every command-line entry point shares: quiet TensorFlow, flag checks, one-line errors."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402  (after quietening TensorFlow's C++ logs)
from absl import flags  # noqa: E402

from tf_seq2seq.errors import Seq2SeqError  # noqa: E402


def run(main, required=()):
    """Parses flags and runs `main()`, printing a `Seq2SeqError` as one line.

    Args:
        main: a function of no arguments doing the command's work.
        required: names of flags that must be given.
    """
    flags.mark_flags_as_required(list(required))

    def main_with_errors(argv):
        if len(argv) > 1:
            fail(f"unexpected arguments: {' '.join(argv[1:])} (flags are --name=value)")
        try:
            main()
        except Seq2SeqError as e:
            fail(str(e))

    app.run(main_with_errors)


def fail(message):
    """Prints `error: MESSAGE` on stderr and exits with status 2."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)
