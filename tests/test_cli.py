"""The command-line entry points, run as a user runs them: in fresh processes."""

import json
import os

import pytest
import sacrebleu

from conftest import PAIRS, run_python, tiny_config, tiny_flags, write_corpus


def cli(command, *flags, **kwargs):
    return run_python(["-m", f"tf_seq2seq.{command}", *flags], **kwargs)


def assert_one_line_error(result, message):
    """The command failed with a single `error: ...` line naming the problem, no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0], result.stderr


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


def test_flag_errors_are_one_line_errors(tmp_path):
    assert_one_line_error(cli("train", f"--model_dir={tmp_path}/m", "--optimizer=rmsprop"),
                          "flag --optimizer=rmsprop: value should be one of <sgd|adam>")
    assert_one_line_error(cli("train", f"--model_dir={tmp_path}/m", "--tokenizer=bpe"),
                          "flag --tokenizer=bpe: value should be one of <word|wordpiece>")
    assert_one_line_error(cli("train", f"--modle_dir={tmp_path}/m"),
                          "Unknown command line flag 'modle_dir'. Did you mean: model_dir ?")
    assert_one_line_error(cli("train", "--dataset=sample"), "missing --model_dir")
    assert not os.path.exists(tmp_path / "m")


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


def test_evaluate_on_a_directory_without_a_model(tmp_path):
    assert_one_line_error(cli("evaluate", f"--model_dir={tmp_path}"), "config.json not found")


def test_train_cli_trains_and_reports(tiny_corpus, tmp_path):
    config = tiny_config(tiny_corpus, train_steps=3)
    result = cli("train", f"--model_dir={tmp_path}/m", *tiny_flags(tiny_corpus, train_steps=3))
    assert result.returncode == 0, result.stderr
    assert f"trained {tmp_path}/m: step 3" in result.stdout
    saved = json.load(open(tmp_path / "m" / "config.json"))
    assert saved["units"] == config.units and saved["train_steps"] == 3


def test_evaluate_cli_writes_the_json_contract(trained_model_dir, tmp_path):
    result = cli("evaluate", f"--model_dir={trained_model_dir}", "--split=test", "--beam_size=2",
                 f"--output_dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    assert "test: BLEU" in result.stdout
    assert not [name for name in os.listdir(trained_model_dir) if name.startswith("eval_")]
    results = json.load(open(os.path.join(tmp_path, "eval_test.json")))
    assert {"bleu", "chrf", "sacrebleu_signature", "num_sentences", "beam_size"} <= set(results)
    assert results["num_sentences"] == len(PAIRS) and results["beam_size"] == 2
    hypotheses = open(os.path.join(tmp_path, "eval_test.hyp"), encoding="utf-8").read()
    recomputed = sacrebleu.corpus_bleu(hypotheses.splitlines(), [[fr for _, fr in PAIRS]])
    assert results["bleu"] == pytest.approx(recomputed.score)
    assert results["bleu"] == pytest.approx(100.0)  # The tiny model memorised the pairs.
    assert 1.0 <= results["perplexity"] < 1.5


def test_evaluate_cli_on_source_and_reference_files(trained_model_dir, tmp_path):
    sources, references = tmp_path / "news.en", tmp_path / "news.fr"
    # Long enough for 4-grams; the first source twice, with another reference.
    sources.write_text("We love cats.\nBe quiet, please.\nWe love cats.\n", encoding="utf-8")
    references.write_text(
        "Nous aimons les chats.\nTais-toi, s'il te plaît.\nNous adorons les chats.\n", encoding="utf-8"
    )
    result = cli("evaluate", f"--model_dir={trained_model_dir}", f"--source_file={sources}",
                 f"--reference_file={references}", f"--output_dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    results = json.load(open(tmp_path / "eval_news.en.json"))
    assert results["num_sentences"] == 2 and results["num_references"] == 3
    assert results["bleu"] == pytest.approx(100.0)
    assert results["perplexity"] > 1.0  # "Nous adorons les chats." was never seen.
    hypotheses = (tmp_path / "eval_news.en.hyp").read_text(encoding="utf-8")
    assert hypotheses == "Nous aimons les chats.\nTais-toi, s'il te plaît.\n"
    assert_one_line_error(
        cli("evaluate", f"--model_dir={trained_model_dir}", f"--source_file={sources}"),
        "--source_file and --reference_file go together",
    )


def test_export_cli_then_translate_cli_on_the_export(trained_model_dir, tmp_path):
    export = cli("export", f"--model_dir={trained_model_dir}", f"--export_dir={tmp_path}/tiny")
    assert export.returncode == 0, export.stderr
    path = export.stdout.strip().splitlines()[-1]
    assert path == f"{tmp_path}/tiny/1"
    result = cli("translate", f"--saved_model={path}", input="".join(en + "\n" for en, _ in PAIRS))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [fr for _, fr in PAIRS]


# Slow: test_export_cli_then_translate_cli_on_the_export runs both commands;
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
