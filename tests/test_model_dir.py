"""The model directory: config and vocabularies saved on a first run, checked on a resume."""

import os

import pytest

from tf_seq2seq import config as config_lib
from tf_seq2seq import corpus
from tf_seq2seq import model_dir as model_dir_lib
from tf_seq2seq import training
from tf_seq2seq.errors import Seq2SeqError

from helpers import PAIRS, assert_one_line_error, cli, client, python_env, tiny_config, tiny_flags, write_corpus


def prepare(config, model_dir):
    """`prepare_model_dir` as training calls it: on the training pairs the run reads."""
    return model_dir_lib.prepare_model_dir(config, model_dir, corpus.training_pairs(config))


def test_resume_with_different_model_settings_is_refused(tiny_corpus, tmp_path):
    model_dir = str(tmp_path / "model")
    training.train(tiny_config(tiny_corpus, train_steps=2), model_dir)
    with pytest.raises(Seq2SeqError, match=r"units: 48 != 64.*num_layers: 2 != 1|num_layers.*units"):
        training.train(tiny_config(tiny_corpus, train_steps=4, units=64, num_layers=1), model_dir)


def test_a_directory_without_checkpoint_accepts_other_model_settings(tiny_corpus, tmp_path):
    from tf_seq2seq import vocab

    model_dir = str(tmp_path / "model")
    # A run that failed before its first checkpoint: config and vocabularies only.
    prepare(tiny_config(tiny_corpus, units=64, target_vocab_size=6), model_dir)
    assert len(vocab.read(vocab.paths(model_dir)[1])) == 6
    result = training.train(tiny_config(tiny_corpus, train_steps=2), model_dir)
    assert result["step"] == 2
    assert config_lib.load(model_dir).units == 48
    assert len(vocab.read(vocab.paths(model_dir)[1])) > 6  # Rebuilt for the new settings.


def test_vocab_sample_size_reads_only_the_first_pairs(tiny_corpus, tmp_path):
    from tf_seq2seq import vocab

    model_dir = str(tmp_path / "model")
    prepare(tiny_config(tiny_corpus, vocab_sample_size=2), model_dir)
    source_path, target_path = vocab.paths(model_dir)
    assert vocab.read(source_path)[len(vocab.SPECIALS):] == [".", "▁Go", "▁Hi"]
    assert set(vocab.read(target_path)[len(vocab.SPECIALS):]) == {"▁Va", "▁!", "▁Salut", "."}


def test_the_vocabularies_are_built_from_the_pairs_the_run_passes(tiny_corpus, tmp_path):
    from tf_seq2seq import vocab

    config = tiny_config(tiny_corpus)
    model_dir_lib.prepare_model_dir(config, str(tmp_path / "given"), corpus.training_pairs(config).take(2))
    prepare(config.replace(vocab_sample_size=2), str(tmp_path / "sampled"))
    prepare(config, str(tmp_path / "all"))
    given, sampled, every = (vocab.read(vocab.paths(str(tmp_path / name))[0]) for name in ("given", "sampled", "all"))
    assert given == sampled
    assert len(every) > len(given)


def test_pairs_dropped_by_the_length_limits_are_counted_and_logged(tmp_path, caplog):
    corpus_dir = write_corpus(tmp_path / "corpus", {"train": PAIRS + [("", "Vide."), ("a " * 30, "b")]})
    config = tiny_config(corpus_dir, max_source_length=20)
    with caplog.at_level("INFO", logger="absl"):
        prepare(config, str(tmp_path / "model"))
    assert "2 of 10 training pairs (20.00%) are empty, have a line over 3200 bytes, or are longer" in caplog.text


def test_a_split_with_no_pair_within_the_length_limits_is_refused(tiny_corpus, tmp_path):
    from tf_seq2seq import vocab

    model_dir = str(tmp_path / "model")
    with pytest.raises(Seq2SeqError, match=r"none of the 8 training pairs .* --max_source_length=1 "):
        training.train(tiny_config(tiny_corpus, max_source_length=1, train_steps=2), model_dir)
    assert not any(map(os.path.exists, vocab.paths(model_dir)))  # Refused before any vocabulary.
    assert training.train(tiny_config(tiny_corpus, train_steps=2), model_dir)["step"] == 2


def test_a_resume_with_no_pair_within_new_length_limits_is_refused(tiny_corpus, tmp_path):
    model_dir = str(tmp_path / "model")
    assert training.train(tiny_config(tiny_corpus, train_steps=2), model_dir)["step"] == 2
    # The limits are not model fields: a resume may change them (here to none of the pairs).
    with pytest.raises(Seq2SeqError, match=r"no training pair .* --max_target_length=1 words"):
        training.train(tiny_config(tiny_corpus, max_target_length=1, train_steps=4), model_dir)
    assert training.train(tiny_config(tiny_corpus, train_steps=4), model_dir)["step"] == 4


def copy_of(model_dir, tmp_path):
    """A copy of a trained model directory, to damage."""
    import shutil

    return shutil.copytree(model_dir, tmp_path / "copy")


def test_a_truncated_config_is_one_line_on_every_command(trained_model_dir, tmp_path, tiny_corpus):
    model_dir = copy_of(trained_model_dir, tmp_path)
    config_path = model_dir / config_lib.CONFIG_FILE
    config_path.write_text(config_path.read_text(encoding="utf-8")[:40], encoding="utf-8")
    with pytest.raises(Seq2SeqError, match=r"config.json cannot be read \(.*\): restore it"):
        config_lib.load(model_dir)
    for command in ("evaluate", "translate"):
        assert_one_line_error(cli(command, f"--model_dir={model_dir}", input="Go.\n"),
                              f"{config_path} cannot be read")


def test_a_trained_directory_without_its_vocabularies_is_refused_and_left_as_it_was(
        trained_model_dir, tmp_path, tiny_corpus):
    from tf_seq2seq import vocab

    model_dir = copy_of(trained_model_dir, tmp_path)
    source_path, _ = vocab.paths(str(model_dir))
    os.remove(source_path)
    config_before = (model_dir / config_lib.CONFIG_FILE).read_bytes()
    # Another dataset would build vocabularies of another size: nothing may be rebuilt.
    result = cli("train", f"--model_dir={model_dir}",
                 *tiny_flags(tiny_corpus, train_steps=500, vocab_sample_size=3))
    assert_one_line_error(result, f"{source_path} is missing, but {model_dir} holds checkpoints")
    assert not os.path.exists(source_path)
    assert (model_dir / config_lib.CONFIG_FILE).read_bytes() == config_before
    with open(source_path, "w", encoding="utf-8") as f:  # A vocabulary of another size.
        f.write("".join(token + "\n" for token in vocab.SPECIALS + ("extra",)))
    with pytest.raises(Seq2SeqError, match=rf"{source_path} has 5 tokens, but .*ckpt-400 was trained with \d+: "):
        training.train(tiny_config(tiny_corpus, train_steps=500), str(model_dir))
    os.remove(model_dir / config_lib.CONFIG_FILE)
    with pytest.raises(Seq2SeqError, match=r"config.json is missing, but .* holds checkpoints"):
        prepare(tiny_config(tiny_corpus), str(model_dir))
    assert not (model_dir / config_lib.CONFIG_FILE).exists()


def test_a_second_training_run_is_refused_and_a_dead_holders_lock_taken_over(tiny_corpus, tmp_path):
    import signal
    import subprocess
    import sys

    model_dir = str(tmp_path / "model")
    holder = subprocess.Popen([sys.executable, client("hold_training_lock"), model_dir], stdout=subprocess.PIPE,
                              text=True, env=python_env())
    try:
        assert holder.stdout.readline() == "locked\n"
        result = cli("train", f"--model_dir={model_dir}", *tiny_flags(tiny_corpus, train_steps=2))
        assert_one_line_error(result, f"{model_dir} is being trained by another process (pid {holder.pid} on ")
        assert not config_lib.exists(model_dir)  # Refused before anything was written.
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The kernel released the dead holder's lock: training takes it over.
    assert training.train(tiny_config(tiny_corpus, train_steps=2), model_dir)["step"] == 2


def test_a_resume_on_another_corpus_restarts_the_data_with_a_warning(tiny_corpus, tmp_path, caplog):
    model_dir = str(tmp_path / "model")
    training.train(tiny_config(tiny_corpus, train_steps=4), model_dir)
    other = write_corpus(tmp_path / "other", {"train": PAIRS * 3 + PAIRS[:2]})
    with caplog.at_level("WARNING", logger="absl"):
        result = training.train(tiny_config(other, train_steps=6), model_dir)
    assert result["step"] == 6
    assert (f"Resuming from {model_dir}/ckpt-4 with the data from the beginning of the training split: the "
            f"training corpus changed (dataset: 'files:{tiny_corpus}' != 'files:{other}')") in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="absl"):
        training.train(tiny_config(other, train_steps=8), model_dir)  # The same corpus again.
    assert "Resuming from" not in caplog.text
