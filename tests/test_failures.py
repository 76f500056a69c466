"""Every failure a user can meet: one `error: ...` line naming the input, exit 2, nothing lost.

The file-system failures are real: a tmpfs mounted read-only or filled up
(these tests need root to mount one and are skipped otherwise).
"""

import contextlib
import gzip
import os
import re
import shutil
import subprocess
import sys

import pytest
import tensorflow as tf

from tf_seq2seq import corpus, training
from tf_seq2seq.errors import Seq2SeqError

from helpers import PAIRS, assert_one_line_error, cli, tiny_config, tiny_flags, write_corpus

# Start-up lines of TensorFlow's C++ runtime (absl log format, e.g. `E0000 00:00:...
# cuda_platform.cc:52] failed call to cuInit`).
CPP_LOG_LINE = r"^[IWEF]\d{4} [\d:.]+ +\d+ \w+\.cc:\d+\]"


@contextlib.contextmanager
def tmpfs(path, size):
    """Mounts a real tmpfs of `size` (e.g. "8m") at `path` for the block's duration."""
    os.makedirs(path, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {mounted.stderr.strip()}")
    try:
        yield str(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def remount_read_only(path):
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def test_corrupt_gz_corpora_are_named(tmp_path):
    corpus_dir = write_corpus(tmp_path / "corpus", {"train": PAIRS})
    with open(os.path.join(corpus_dir, "train.en"), "rb") as f:
        whole = gzip.compress(f.read() * 200)
    os.remove(os.path.join(corpus_dir, "train.en"))
    truncated = os.path.join(corpus_dir, "train.en.gz")
    with open(truncated, "wb") as f:
        f.write(whole[: len(whole) // 2])
    with pytest.raises(Seq2SeqError, match=r"train\.en\.gz: corrupt gzip file after line \d+ \(EOFError"):
        corpus.load(f"files:{corpus_dir}", "train", "en", "fr")
    result = cli("train", f"--model_dir={tmp_path}/m", f"--dataset=files:{corpus_dir}")
    assert_one_line_error(result, "train.en.gz: corrupt gzip file")
    with open(truncated, "wb") as f:
        f.write(b"Go.\nHi.\n")  # Plain text under a .gz name.
    with pytest.raises(Seq2SeqError, match=r"train\.en\.gz: corrupt gzip file after line 0 \(BadGzipFile"):
        corpus.load(f"files:{corpus_dir}", "train", "en", "fr")
    with pytest.raises(Seq2SeqError, match=r"corrupt gzip file"):
        corpus.read_lines(truncated)


def test_read_only_directories_are_refused_before_any_work(trained_model_dir, tmp_path):
    with tmpfs(tmp_path / "ro", "16m") as mount:
        model_dir = os.path.join(mount, "model")
        shutil.copytree(trained_model_dir, model_dir, ignore=shutil.ignore_patterns("train", "eval*"))
        remount_read_only(mount)
        flags = tiny_flags("unused")
        for command, args, flag in [
            ("train", [f"--model_dir={model_dir}", *flags], f"--model_dir={model_dir}"),  # Resume.
            ("train", [f"--model_dir={mount}/new", *flags], f"--model_dir={mount}/new"),
            ("evaluate", [f"--model_dir={model_dir}"], f"--model_dir={model_dir}"),
            ("export", [f"--model_dir={model_dir}", f"--export_dir={mount}/exports"],
             f"--export_dir={mount}/exports"),
            ("analyze", ["length", f"--model_dir={model_dir}", f"--output={model_dir}/length.png"],
             f"--output={model_dir}"),
        ]:
            result = cli(command, *args)
            assert_one_line_error(result, f"{flag} is not writable: Read-only file system")
            # Checked first: no corpus read, no model built, nothing translated.
            assert "Translating" not in result.stderr and "Building" not in result.stderr


def test_a_full_disk_while_checkpointing_stops_and_keeps_the_previous_checkpoint(tiny_corpus, tmp_path):
    # Room for a few checkpoints with their input-pipeline state (its size varies with the
    # prefetched batches) once the filler is gone.
    with tmpfs(tmp_path / "small", "96m") as mount:
        model_dir = os.path.join(mount, "model")
        config = tiny_config(tiny_corpus, train_steps=2, batch_size=4, checkpoint_every_steps=1000)
        training.train(config, model_dir)
        assert tf.train.latest_checkpoint(model_dir).endswith("ckpt-2")
        free = os.statvfs(mount).f_bavail * os.statvfs(mount).f_frsize
        with open(os.path.join(mount, "filler"), "wb") as f:
            f.write(b"\0" * (free - 64 * 1024))  # Room for the config, not for a checkpoint.
        with pytest.raises(Seq2SeqError, match=r"could not write checkpoint .*/ckpt-\d+ \(No space left on "
                                               r"device\): the latest checkpoint is still .*/ckpt-2;"):
            training.train(config.replace(train_steps=6), model_dir)
        assert tf.train.latest_checkpoint(model_dir).endswith("ckpt-2")
        assert not [name for name in os.listdir(model_dir) if name.endswith("_temp")]
        reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(model_dir))
        assert reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == 2
        os.remove(os.path.join(mount, "filler"))
        assert training.train(config.replace(train_steps=6), model_dir)["step"] == 6  # Resumes.


def test_a_truncated_checkpoint_is_named_on_translate_and_resume(trained_model_dir, tiny_corpus, tmp_path):
    model_dir = str(tmp_path / "model")
    shutil.copytree(trained_model_dir, model_dir, ignore=shutil.ignore_patterns("train", "eval*"))
    latest = tf.train.latest_checkpoint(model_dir)
    data_file = latest + ".data-00000-of-00001"
    os.truncate(data_file, os.path.getsize(data_file) // 2)
    message = f"checkpoint {latest} cannot be read"
    assert_one_line_error(cli("translate", f"--model_dir={model_dir}", input="Go.\n"), message)
    resume = cli("train", f"--model_dir={model_dir}", *tiny_flags(tiny_corpus, train_steps=500))
    assert_one_line_error(resume, message)
    assert tf.train.latest_checkpoint(model_dir) == latest  # Nothing written over it.


def test_a_truncated_export_is_named_on_translate(exported_model, tmp_path):
    corrupt = shutil.copytree(exported_model, tmp_path / "1")
    graph_file = corrupt / "saved_model.pb"
    os.truncate(graph_file, os.path.getsize(graph_file) // 2)
    assert_one_line_error(cli("translate", f"--saved_model={corrupt}", input="Go.\n"),
                          f"{graph_file} cannot be read")


def test_invalid_utf8_is_repaired_by_translate_and_refused_by_evaluate(trained_model_dir, tmp_path):
    sources = b"Go.\nbad \xff byte\nHi.\n"
    input_file = tmp_path / "input.en"
    input_file.write_bytes(sources)
    quiet_env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    from_file = cli("translate", f"--model_dir={trained_model_dir}", f"--input={input_file}", env=quiet_env)
    assert from_file.returncode == 0, from_file.stderr
    assert len(from_file.stdout.splitlines()) == 3
    assert f"{input_file}:2: invalid UTF-8 (invalid start byte) replaced by U+FFFD" in from_file.stderr
    # A quiet console: none of TensorFlow's C++ start-up lines (cuInit, oneDNN, CPU features).
    assert not [line for line in from_file.stderr.splitlines() if re.match(CPP_LOG_LINE, line)]
    assert "absl::InitializeLog" not in from_file.stderr
    from_stdin = cli("translate", f"--model_dir={trained_model_dir}", input=sources, text=False)
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert from_stdin.stdout.decode() == from_file.stdout
    assert b"<stdin>:2: invalid UTF-8" in from_stdin.stderr
    references = tmp_path / "input.fr"
    references.write_text("Va !\nmauvais octet\nSalut.\n", encoding="utf-8")
    refused = cli("evaluate", f"--model_dir={trained_model_dir}", f"--source_file={input_file}",
                  f"--reference_file={references}", f"--output_dir={tmp_path}")
    assert_one_line_error(refused, f"{input_file}:2: invalid UTF-8")


def test_tensorflow_start_up_lines_show_with_verbosity(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    verbose = cli("export", "--verbosity=1", "--help", env=env)
    assert verbose.returncode == 0 and "absl::InitializeLog" in verbose.stderr


def test_translate_into_a_closed_pipe_stops_quietly(trained_model_dir, tmp_path):
    input_file = tmp_path / "input.en"
    input_file.write_text("".join(en + "\n" for en, _ in PAIRS) * 20, encoding="utf-8")
    args = [sys.executable, "-m", "tf_seq2seq.translate", f"--model_dir={trained_model_dir}",
            f"--input={input_file}"]
    # `translate ... | head -1`, with the reader gone before the first line.
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        process.stdout.close()
        stderr = process.stderr.read()
    assert process.returncode == 128 + 13, stderr  # Like a Unix filter killed by SIGPIPE.
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr


def test_first_hour_mistakes_are_named_with_what_to_do(tmp_path):
    from tf_seq2seq import config as config_lib

    missing_flagfile = cli("train", f"--flagfile={tmp_path}/none.flags", f"--model_dir={tmp_path}/m")
    assert_one_line_error(missing_flagfile, "error: Unable to open flagfile: ")
    assert "ERROR::" not in missing_flagfile.stderr
    a_file = tmp_path / "model.txt"
    a_file.write_text("", encoding="utf-8")
    assert_one_line_error(cli("train", f"--model_dir={a_file}"), f"--model_dir={a_file} is a file, not a directory")
    training_dir = tmp_path / "trained"
    config_lib.Config().save(str(training_dir))
    assert_one_line_error(cli("translate", f"--saved_model={training_dir}"),
                          f"no SavedModel at {training_dir}: it is a training model directory (give it as "
                          "--model_dir, or export it first)")
    exports = tmp_path / "exports"
    for version in ("2", "10"):
        (exports / version).mkdir(parents=True)
    assert_one_line_error(cli("translate", f"--saved_model={exports}"),
                          f"no SavedModel at {exports}: it holds the versions 2, 10; name one, e.g. {exports}/10")
