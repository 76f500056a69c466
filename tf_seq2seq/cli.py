"""What every command-line entry point shares: quiet TensorFlow, flag checks, one-line errors."""

import logging
import os
import re
import sys
import tempfile


def _verbose(argv):
    """Whether a command line asks for debug logs (`--verbosity=N` or `-v=N`, N >= 1)."""
    levels = [int(m.group(1)) for a in argv for m in [re.fullmatch(r"--?(?:verbosity|v)=(-?\d+)", a)] if m]
    return bool(levels) and levels[-1] >= 1


def _import_tensorflow_quietly():
    """Imports TensorFlow without its C++ start-up lines on stderr.

    TensorFlow prints them (oneDNN, "Could not find cuda drivers", `failed
    call to cuInit` on a machine without GPU) before its log level applies;
    they are not problems (BUILD.md explains them). Should the import fail,
    they are shown with the error.
    """
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.buffer.write(captured.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


# Before TensorFlow is imported (the command modules import it after this one):
# its C++ logs stay off unless --verbosity asks for them.
if _verbose(sys.argv[1:]):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
else:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    _import_tensorflow_quietly()
    # TensorFlow's own INFO lines (saver sharding, SavedModel assets) are for debugging.
    logging.getLogger("tensorflow").setLevel(logging.WARNING)
    _in_tensorflow = f"{os.sep}tensorflow{os.sep}"
    logging.getLogger("absl").addFilter(
        lambda record: record.levelno >= logging.WARNING or _in_tensorflow not in record.pathname
    )

from absl import app  # noqa: E402  (after quietening TensorFlow's C++ logs)
from absl import flags  # noqa: E402
from absl import logging as absl_logging  # noqa: E402

# Log lines as `I 05:19:41 message`: the level and the time, without absl's date, thread id
# and source location (`--verbosity=1` keeps them, for debugging).
SHORT_LOG_FORMAT = logging.Formatter("%(levelname).1s %(asctime)s %(message)s", "%H:%M:%S")
if not _verbose(sys.argv[1:]):
    absl_logging.get_absl_handler().setFormatter(SHORT_LOG_FORMAT)

from tf_seq2seq import help as help_lib  # noqa: E402
from tf_seq2seq.errors import Seq2SeqError  # noqa: E402

HELP_ARGUMENTS = ("--help", "-help", "-?", "--helpshort", "-helpshort")


def run(main, reads, required=(), commands=()):
    """Parses flags and runs `main()`, printing a `Seq2SeqError` as one line.

    Flag errors (unknown flags, bad values, missing required flags) are one
    `error: ...` line too, and `--help` lists the flags in `reads` by group.

    Args:
        main: a function doing the command's work: of no arguments, or of the
            subcommand name when `commands` is given.
        reads: names of the flags the command reads, for `--help`.
        required: names of flags that must be given.
        commands: subcommand names, one of which must be the only argument.
    """

    def parse(argv):
        if any(argument in HELP_ARGUMENTS for argument in argv[1:]):
            print(help_lib.command_help(sys.modules["__main__"].__doc__, reads, required))
            sys.exit(0)
        try:
            arguments = flags.FLAGS(argv)
        except flags.Error as e:
            fail(" ".join(str(e).removeprefix("ERROR::").split()) + " (--help lists the flags)")
        missing = [name for name in required if flags.FLAGS[name].value is None]
        if missing:
            fail(f"missing {', '.join('--' + name for name in missing)} (--help lists the flags)")
        return arguments

    def main_with_errors(argv):
        arguments = argv[1:]
        if commands and (len(arguments) != 1 or arguments[0] not in commands):
            fail(f"expected one command, {' or '.join(commands)}; got {' '.join(arguments) or 'none'}")
        if arguments and not commands:
            fail(f"unexpected arguments: {' '.join(arguments)} (flags are --name=value)")
        try:
            main(*arguments)
            sys.stdout.flush()
        except Seq2SeqError as e:
            fail(str(e))
        except BrokenPipeError:
            _stop_writing_to_closed_pipe()

    app.run(main_with_errors, flags_parser=parse)


def _stop_writing_to_closed_pipe():
    """Ends quietly when stdout's reader has gone (`translate ... | head -1`).

    Exits like a Unix filter killed by SIGPIPE (status 141), without the
    traceback Python would print when flushing stdout at exit.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(128 + 13)  # 13 = SIGPIPE.


def check_writable(directory, flag):
    """Fails before any work unless `directory` (created if missing) takes new files.

    Args:
        directory: the directory a command will write to.
        flag: the flag that named it, for the message, e.g. `--model_dir`.

    Raises:
        Seq2SeqError: naming the flag, the directory and the reason.
    """
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise Seq2SeqError(f"{flag}={directory} is a file, not a directory")
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as e:
        raise Seq2SeqError(f"{flag}={directory} is not writable: {e.strerror or e}") from None


def load_model(signature="beam_search"):
    """The model named by `--saved_model` or `--model_dir` (exactly one; DIR1,DIR2,... = an ensemble).

    Args:
        signature: `beam_search` or `score`, the function to return.

    Returns:
        `(model, function, config)`: the loaded model (keep it referenced:
        its functions refer to it weakly), the function to call (a SavedModel
        signature or `translator.Translator.beam_search` / `score_signature`),
        and the model's config with decoding flags given on the command line applied.
    """
    from tf_seq2seq import flags as flags_lib  # Defines the flags on import.
    from tf_seq2seq import serving
    from tf_seq2seq import loading

    given = flags_lib.FLAGS
    if (given.saved_model is None) == (given.model_dir is None):
        fail("give exactly one of --saved_model and --model_dir")
    if given.saved_model is not None:
        model = serving.load(given.saved_model)
        saved_config = serving.saved_config(given.saved_model)
        config = flags_lib.with_decoding_flags(saved_config)
        if config.replace_unknown_target != saved_config.replace_unknown_target:
            fail(f"--replace_unknown_target={config.replace_unknown_target} differs from the export's "
                 f"(its graph decides): export the model with it, or translate with --model_dir")
        if signature not in model.signatures:
            fail(f"{given.saved_model} has no {signature} signature: export the model again")
        return model, model.signatures[signature], config
    model_dirs = flags_lib.model_dirs()
    config = flags_lib.config_for_model_dir(model_dirs[0])
    if signature == "score":
        config = config.replace(shortlist=False)  # Scores are over every target word.
    translator, _ = loading.from_model_dirs(
        config, model_dirs, given.checkpoint, average_last=given.average_last_checkpoints
    )
    functions = {"beam_search": translator.beam_search, "score": translator.score_signature}
    return translator, functions[signature], config


def fail(message):
    """Prints `error: MESSAGE` on stderr and exits with status 2."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)
