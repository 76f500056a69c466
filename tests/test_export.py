"""The export command, run as a user runs it in a fresh process: it prints the version it wrote."""

from helpers import PAIRS, cli


def test_export_cli_then_translate_cli_on_the_export(trained_model_dir, tmp_path):
    export = cli("export", f"--model_dir={trained_model_dir}", f"--export_dir={tmp_path}/tiny")
    assert export.returncode == 0, export.stderr
    path = export.stdout.strip().splitlines()[-1]
    assert path == f"{tmp_path}/tiny/1"
    result = cli("translate", f"--saved_model={path}", input="".join(en + "\n" for en, _ in PAIRS))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [fr for _, fr in PAIRS]
