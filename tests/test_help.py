"""--help: a command's own flags, by group, with their defaults (help.command_help), as the commands print it."""

from helpers import cli


def test_help_lists_the_commands_own_flags_by_group():
    train = cli("train", "--help")
    assert train.returncode == 0, train.stderr
    groups = [line for line in train.stdout.splitlines() if line.endswith(" flags:")]
    assert groups == ["data flags:", "model flags:", "training flags:", "distribution flags:",
                      "decoding flags:", "input and output flags:"]
    assert "  --units: LSTM cells per layer (paper: 1000). (default: 256)" in train.stdout
    assert "--model_dir: Model directory" in train.stdout and "(required)" in train.stdout
    assert "'tsv:DIR'" in train.stdout and "--saved_model" not in train.stdout
    translate = cli("translate", "--help")
    assert translate.returncode == 0, translate.stderr
    assert "--input:" in translate.stdout and "--beam_size:" in translate.stdout
    assert "--units" not in translate.stdout and "training flags:" not in translate.stdout
    assert "--helpfull" in translate.stdout
    # Export-only flags are export's; a help that names its own default is not given a second one.
    for command in ("translate", "evaluate"):
        text = translate.stdout if command == "translate" else cli(command, "--help").stdout
        assert "--max_batch_size" not in text and "--jit_compile" not in text
        assert not [line for line in text.splitlines() if line.count("(default: ") > 1]
    assert "(default: stdin)." in translate.stdout and "(default: none)" not in translate.stdout.split("--input:")[1].split("--")[0]
    assert "--max_batch_size" in cli("export", "--help").stdout
