"""The one exception type that command-line entry points turn into a one-line error."""


class Seq2SeqError(Exception):
    """A problem with the user's input (files, flags, model directory).

    The message names the bad input; the CLIs print it as a single line and exit 2.
    """
