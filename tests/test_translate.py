"""The translate command, run as a user runs it in a fresh process: n-best lists, checkpoints, a progress bar."""

import json
import os

import pytest

from helpers import PAIRS, assert_one_line_error, cli


def test_translate_shows_a_progress_bar_on_a_terminal_only(trained_model_dir, tmp_path):
    import fcntl
    import pty
    import struct
    import subprocess
    import sys
    import termios

    input_file = tmp_path / "input.en"
    input_file.write_text("".join(en + "\n" for en, _ in PAIRS) * 3, encoding="utf-8")
    args = [sys.executable, "-m", "tf_seq2seq.translate", f"--model_dir={trained_model_dir}",
            f"--input={input_file}", "--translate_batch_size=8"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    terminal, terminal_end = pty.openpty()
    # An 80-column terminal: a pty starts with 0 columns, where tqdm draws nothing.
    fcntl.ioctl(terminal_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=terminal_end, env=env, text=True) as process:
        os.close(terminal_end)
        shown = b""
        while True:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # The child closed the terminal.
                break
            if not chunk:
                break
            shown += chunk
        stdout = process.stdout.read()
    assert process.returncode == 0
    assert stdout.splitlines() == [fr for _, fr in PAIRS] * 3
    assert b"24/24" in shown and b"sent" in shown
    piped = cli("translate", f"--model_dir={trained_model_dir}", f"--input={input_file}")
    assert "24/24" not in piped.stderr


# Slow: test_export.py::test_export_cli_then_translate_cli_on_the_export runs both commands;
# test_evaluation.py evaluates an export with n-best lists in process, and
# test_translate_shows_a_progress_bar_on_a_terminal_only translates from a checkpoint.
@pytest.mark.slow
def test_export_then_translate_cli(trained_model_dir, tmp_path):
    export = cli("export", f"--model_dir={trained_model_dir}", f"--export_dir={tmp_path}/tiny")
    assert export.returncode == 0, export.stderr
    path = export.stdout.strip().splitlines()[-1]
    assert path == f"{tmp_path}/tiny/1"
    input_file = tmp_path / "input.en"
    input_file.write_text("".join(en + "\n" for en, _ in PAIRS), encoding="utf-8")
    result = cli("translate", f"--saved_model={path}", f"--input={input_file}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [fr for _, fr in PAIRS]
    nbest = cli("translate", f"--saved_model={path}", f"--input={input_file}", "--num_hypotheses=2")
    rows = [line.split("\t") for line in nbest.stdout.splitlines()]
    assert len(rows) == 2 * len(PAIRS)
    assert [row[3] for row in rows if row[1] == "1"] == [fr for _, fr in PAIRS]
    assert all(float(a[2]) >= float(b[2]) for a, b in zip(rows[::2], rows[1::2]))
    from_checkpoint = cli("translate", f"--model_dir={trained_model_dir}", f"--input={input_file}")
    assert from_checkpoint.returncode == 0, from_checkpoint.stderr
    assert from_checkpoint.stdout == result.stdout
    assert_one_line_error(cli("translate", f"--input={input_file}"), "exactly one of")
    served = cli("evaluate", f"--saved_model={path}", "--split=test", f"--output_dir={tmp_path}/out")
    assert served.returncode == 0, served.stderr
    served_results = json.load(open(tmp_path / "out" / "eval_test.json"))
    assert served_results["bleu"] == pytest.approx(100.0) and served_results["model"] == path
    assert "perplexity" not in served_results
    nbest_eval = cli("evaluate", f"--saved_model={path}", "--split=test", f"--output_dir={tmp_path}/nb",
                     "--num_hypotheses=3")
    assert nbest_eval.returncode == 0, nbest_eval.stderr
    nbest_rows = [line.split("\t") for line in (tmp_path / "nb" / "eval_test.nbest").read_text().splitlines()]
    assert len(nbest_rows) == 3 * len(PAIRS) and [r[1] for r in nbest_rows[:3]] == ["1", "2", "3"]
    hypotheses = (tmp_path / "nb" / "eval_test.hyp").read_text().splitlines()
    assert [row[3] for row in nbest_rows if row[1] == "1"] == hypotheses
    assert_one_line_error(cli("evaluate", f"--saved_model={path}"), "--output_dir is needed")
    missing = cli("translate", f"--saved_model={path}", f"--input={tmp_path}/none.txt")
    assert_one_line_error(missing, "input file not found")
    assert_one_line_error(cli("translate", f"--saved_model={tmp_path}"), "no SavedModel")
