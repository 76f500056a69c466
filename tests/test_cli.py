"""What every command shares (cli.py), run as a user runs it in a fresh process: flag errors are one line.

Each command's own tests are in its file: test_train.py, test_evaluate.py,
test_export.py, test_translate.py, test_score.py, test_analyze.py, test_help.py.
"""

import os

from helpers import assert_one_line_error, cli


def test_flag_errors_are_one_line_errors(tmp_path):
    assert_one_line_error(cli("train", f"--model_dir={tmp_path}/m", "--optimizer=rmsprop"),
                          "flag --optimizer=rmsprop: value should be one of <sgd|adam>")
    assert_one_line_error(cli("train", f"--model_dir={tmp_path}/m", "--tokenizer=bpe"),
                          "flag --tokenizer=bpe: value should be one of <word|wordpiece>")
    assert_one_line_error(cli("train", f"--modle_dir={tmp_path}/m"),
                          "Unknown command line flag 'modle_dir'. Did you mean: model_dir ?")
    assert_one_line_error(cli("train", "--dataset=sample"), "missing --model_dir")
    assert not os.path.exists(tmp_path / "m")
