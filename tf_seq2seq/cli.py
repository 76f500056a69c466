"""What every command-line entry point shares: quiet TensorFlow, flag checks, one-line errors."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402  (after quietening TensorFlow's C++ logs)
from absl import flags  # noqa: E402

from tf_seq2seq.errors import Seq2SeqError  # noqa: E402


def run(main, required=(), commands=()):
    """Parses flags and runs `main()`, printing a `Seq2SeqError` as one line.

    Args:
        main: a function doing the command's work: of no arguments, or of the
            subcommand name when `commands` is given.
        required: names of flags that must be given.
        commands: subcommand names, one of which must be the only argument.
    """
    flags.mark_flags_as_required(list(required))

    def main_with_errors(argv):
        arguments = argv[1:]
        if commands and (len(arguments) != 1 or arguments[0] not in commands):
            fail(f"expected one command, {' or '.join(commands)}; got {' '.join(arguments) or 'none'}")
        if arguments and not commands:
            fail(f"unexpected arguments: {' '.join(arguments)} (flags are --name=value)")
        try:
            main(*arguments)
        except Seq2SeqError as e:
            fail(str(e))

    app.run(main_with_errors)


def load_model():
    """The model named by `--saved_model` or `--model_dir` (exactly one; DIR1,DIR2,... = an ensemble).

    Returns:
        `(model, beam_search, config)`: the loaded model (keep it referenced:
        its `beam_search` function refers to it weakly), the function to call
        (a SavedModel signature or `serving.Translator.beam_search`), and the
        model's config with decoding flags given on the command line applied.
    """
    from tf_seq2seq import flags as flags_lib  # Defines the flags on import.
    from tf_seq2seq import serving

    given = flags_lib.FLAGS
    if (given.saved_model is None) == (given.model_dir is None):
        fail("give exactly one of --saved_model and --model_dir")
    if given.saved_model is not None:
        model = serving.load(given.saved_model)
        config = flags_lib.with_decoding_flags(serving.saved_config(given.saved_model))
        return model, model.signatures["beam_search"], config
    model_dirs = flags_lib.model_dirs()
    config = flags_lib.config_for_model_dir(model_dirs[0])
    translator, _ = serving.translator_from_model_dirs(config, model_dirs, given.checkpoint)
    return translator, translator.beam_search, config


def fail(message):
    """Prints `error: MESSAGE` on stderr and exits with status 2."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)
