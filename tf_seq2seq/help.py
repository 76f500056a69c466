"""`--help`: a command's own flags, grouped as in `flags.GROUPS`, with their defaults."""

import textwrap

from tf_seq2seq import flags as flags_lib

_WIDTH = 80


def command_help(doc, reads, required=()):
    """The text `--help` prints.

    Args:
        doc: the command module's docstring (its usage), or None.
        reads: names of the flags the command reads.
        required: names of the flags it needs.

    Returns:
        The usage, then each group's flags the command reads: name, help and
        default; a pointer to `--helpfull` for the rest.
    """
    lines = [(doc or "").strip(), ""]
    for group, names in flags_lib.GROUPS.items():
        own = [name for name in names if name in reads]
        if own:
            lines.append(f"{group} flags:")
            lines.extend(_describe(flags_lib.FLAGS[name], name in required) for name in own)
            lines.append("")
    lines.append("--flagfile=FILE reads flags from a file; --helpfull lists every flag "
                 "(also absl's logging flags such as --verbosity).")
    return "\n".join(lines)


def _describe(flag, required):
    """`  --name: help (default: value)`, wrapped and indented (a help that names its default keeps it)."""
    if "(default: " in flag.help and not required:
        return textwrap.fill(flag.help, _WIDTH, initial_indent=f"  --{flag.name}: ", subsequent_indent="      ")
    if required:
        default = "required"
    elif flag.default in (None, ""):
        default = "default: none"
    else:
        value = repr(flag.default) if isinstance(flag.default, str) else flag.default
        default = f"default: {value}"
    text = f"{flag.help} ({default})"
    return textwrap.fill(text, _WIDTH, initial_indent=f"  --{flag.name}: ",
                         subsequent_indent="      ")
