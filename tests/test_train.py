"""The train command, run as a user runs it in a fresh process: it trains and reports, or names the bad corpus."""

import json
import os

import pytest

from helpers import PAIRS, assert_one_line_error, cli, tiny_config, tiny_flags, write_corpus


def test_train_cli_trains_and_reports(tiny_corpus, tmp_path):
    config = tiny_config(tiny_corpus, train_steps=3)
    result = cli("train", f"--model_dir={tmp_path}/m", *tiny_flags(tiny_corpus, train_steps=3))
    assert result.returncode == 0, result.stderr
    assert f"trained {tmp_path}/m: step 3" in result.stdout
    saved = json.load(open(tmp_path / "m" / "config.json"))
    assert saved["units"] == config.units and saved["train_steps"] == 3


def test_train_with_a_missing_corpus_names_the_file(tmp_path):
    result = cli("train", f"--model_dir={tmp_path}/m", f"--dataset=files:{tmp_path}/nowhere")
    assert_one_line_error(result, f"corpus file not found: {tmp_path}/nowhere/train.en")


# Slow: test_corpus.py::test_unusable_corpora_are_refused_naming_the_problem checks the message
# in process; test_train_with_a_missing_corpus_names_the_file the one-line CLI error.
@pytest.mark.slow
def test_train_with_an_unknown_dataset_kind_says_what_is_expected(tmp_path):
    result = cli("train", f"--model_dir={tmp_path}/m", "--dataset=hdfs:/data")
    assert_one_line_error(result, "unknown --dataset 'hdfs:/data'")


# Slow: test_corpus.py::test_unusable_corpora_are_refused_naming_the_problem checks the message
# in process; test_train_with_a_missing_corpus_names_the_file the one-line CLI error.
@pytest.mark.slow
def test_train_with_an_empty_corpus_says_so(tmp_path):
    corpus_dir = write_corpus(tmp_path / "corpus", {"train": []})
    result = cli("train", f"--model_dir={tmp_path}/m", f"--dataset=files:{corpus_dir}")
    assert_one_line_error(result, "empty corpus")


# Slow: test_corpus.py::test_unusable_corpora_are_refused_naming_the_problem checks the message
# in process; test_train_with_a_missing_corpus_names_the_file the one-line CLI error.
@pytest.mark.slow
def test_train_with_misaligned_files_names_both(tmp_path):
    corpus_dir = write_corpus(tmp_path / "corpus", {"train": PAIRS})
    with open(os.path.join(corpus_dir, "train.fr"), "a", encoding="utf-8") as f:
        f.write("Une ligne de trop.\n")
    result = cli("train", f"--model_dir={tmp_path}/m", f"--dataset=files:{corpus_dir}")
    assert_one_line_error(result, "train.en has 8 lines but")


# Slow: test_corpus.py::test_unusable_corpora_are_refused_naming_the_problem checks the message
# in process; test_train_with_a_missing_corpus_names_the_file the one-line CLI error.
@pytest.mark.slow
def test_train_with_invalid_utf8_names_file_and_line(tmp_path):
    corpus_dir = write_corpus(tmp_path / "corpus", {"train": PAIRS})
    with open(os.path.join(corpus_dir, "train.en"), "ab") as f:
        f.write(b"bad \xff byte\n")
    with open(os.path.join(corpus_dir, "train.fr"), "a", encoding="utf-8") as f:
        f.write("mauvais octet\n")
    result = cli("train", f"--model_dir={tmp_path}/m", f"--dataset=files:{corpus_dir}")
    assert_one_line_error(result, "train.en:9: invalid UTF-8")
