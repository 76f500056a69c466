"""The user docs stay honest: every command line and flagfile they show parses with today's flags.

Reads README.md, BUILD.md and docs/*.md; every `python -m tf_seq2seq.CMD ...`
line of a code block (continuation lines joined) names a command that exists,
and each of its `--flag[=value]` is a flag absl knows whose value its parser
accepts (choices, bounds) unless the value is a placeholder (`DIR`, `N`,
`FILE.en`); every `--flagfile` named there (and every recipe in `pipelines/`)
parses the same way, line by line. A renamed or removed flag fails here.
"""

import glob
import importlib
import os
import re
import shlex

import pytest
from absl import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = [os.path.join(ROOT, "README.md"), os.path.join(ROOT, "BUILD.md")] + sorted(
    glob.glob(os.path.join(ROOT, "docs", "*.md"))
)
COMMAND = re.compile(r"python -m tf_seq2seq\.([a-z_]+)(.*)")
# A value written in capitals (`DIR`, `N`, `FILE.en`, `DIR1,DIR2`) stands for the reader's own.
PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*([.,:/][\w.,:/]*)?$")


def code_lines(path):
    """The code of a Markdown file: code block lines (continuations joined) and inline code spans."""
    lines, fenced, pending = [], False, ""
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not (fenced or line.startswith("    ")):
            lines += re.findall(r"`([^`]+)`", line)
            continue
        pending += line.strip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        lines.append(pending)
        pending = ""
    return lines


def documented_commands():
    """`(file, command, arguments)` of every `python -m tf_seq2seq.CMD` line of the docs."""
    found = []
    for path in DOCS:
        for line in code_lines(path):
            match = COMMAND.search(line)
            if match:
                arguments = re.split(r"\s[|>]\s|\s2?>", match.group(2))[0]  # Up to a pipe or redirect.
                found.append((os.path.relpath(path, ROOT), match.group(1), arguments))
    return found


def flag_arguments(arguments):
    """The `--name[=value]` words of a command line (optional `[--flag]` brackets and `<...>` notes removed)."""
    words = shlex.split(re.sub(r"\[(--[^\]]*)\]", r"\1", re.sub(r"<[^>]*>", "", arguments)))
    return [word for word in words if word.startswith("--")]


def check_flag(argument, where):
    """Fails unless absl knows `--name[=value]` and accepts the value."""
    name, has_value, value = argument[2:].partition("=")
    if name == "flagfile":
        check_flagfile(value, where)
        return
    if not has_value and name not in flags.FLAGS and name.startswith("no") and name[2:] in flags.FLAGS:
        name = name[2:]
    assert name in flags.FLAGS, f"{where}: unknown flag --{name}"
    if has_value and not PLACEHOLDER.match(value):
        try:
            flags.FLAGS[name].parser.parse(value)
        except (ValueError, TypeError) as e:
            pytest.fail(f"{where}: --{name}={value} does not parse: {e}")


def check_flagfile(path, where):
    """Fails unless the flagfile exists and each of its flags parses."""
    full = os.path.join(ROOT, path)
    assert os.path.exists(full), f"{where}: flagfile {path} does not exist"
    for number, line in enumerate(open(full, encoding="utf-8"), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            check_flag(line, f"{path}:{number}")


@pytest.fixture(scope="module", autouse=True)
def command_flags():
    """Every command's flags defined (each command module defines what it reads)."""
    for name in ("train", "evaluate", "export", "translate", "score", "analyze", "ablation"):
        importlib.import_module(f"tf_seq2seq.{name}")


def test_the_docs_show_commands():
    commands = {command for _, command, _ in documented_commands()}
    assert {"train", "evaluate", "export", "translate", "score", "analyze", "ablation"} <= commands


@pytest.mark.parametrize("where,command,arguments", documented_commands())
def test_documented_command_parses(where, command, arguments):
    assert os.path.exists(os.path.join(ROOT, "tf_seq2seq", f"{command}.py")), f"{where}: no command {command}"
    for argument in flag_arguments(arguments):
        check_flag(argument, f"{where}: python -m tf_seq2seq.{command}")


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(ROOT, "pipelines", "*.flags"))))
def test_recipe_parses(path):
    check_flagfile(os.path.relpath(path, ROOT), "pipelines/")


def test_an_unknown_flag_fails():
    with pytest.raises(AssertionError, match="unknown flag --beam_width"):
        check_flag("--beam_width=4", "here")
    with pytest.raises(pytest.fail.Exception, match="--tokenizer=bpe does not parse"):
        check_flag("--tokenizer=bpe", "here")
