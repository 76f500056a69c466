"""The training loop on a tiny real model: it learns, resumes, and guards its model dir."""

import os

import tensorflow as tf

from tf_seq2seq import training

from conftest import PAIRS, tiny_config

SOURCES = [en for en, _ in PAIRS]
TARGETS = [fr for _, fr in PAIRS]


def test_training_writes_checkpoints_vocab_config_and_events(trained_model_dir):
    files = set(os.listdir(trained_model_dir))
    assert {"config.json", "vocab", "train", "checkpoint"} <= files
    assert "ckpt-400.index" in files
    assert os.listdir(os.path.join(trained_model_dir, "train"))


def test_rerun_with_more_steps_resumes_from_the_checkpoint(tiny_corpus, tmp_path):
    model_dir = str(tmp_path / "model")
    first = training.train(tiny_config(tiny_corpus, train_steps=20, checkpoint_every_steps=10), model_dir)
    assert first["step"] == 20
    again = training.train(tiny_config(tiny_corpus, train_steps=20), model_dir)
    assert again["step"] == 20 and again["loss"] is None  # Nothing left to do.
    more = training.train(tiny_config(tiny_corpus, train_steps=35), model_dir)
    assert more["step"] == 35
    assert tf.train.latest_checkpoint(model_dir).endswith("ckpt-35")


def test_train_steps_alone_means_steps_and_epochs_alone_means_epochs(tiny_corpus, tmp_path):
    # 8 pairs in batches of 4: 30 steps are about 15 epochs, none of which stops the run.
    steps = training.train(tiny_config(tiny_corpus, train_steps=30, epochs=0, batch_size=4),
                           str(tmp_path / "steps"))
    assert steps["step"] == 30 and steps["epochs"] > 10
    # Epochs are counted from the pairs trained on: the run stops at the first
    # step whose batch reaches the 24th pair of the stream (3 x 8 pairs).
    epochs = training.train(tiny_config(tiny_corpus, train_steps=0, epochs=3, batch_size=2),
                            str(tmp_path / "epochs"))
    # Length buckets reorder pairs a little: about 12 steps of 2 pairs.
    assert 3 <= epochs["epochs"] < 3.5 and 9 <= epochs["step"] <= 15


def test_neither_limit_runs_one_epoch(tiny_corpus, tmp_path):
    result = training.train(tiny_config(tiny_corpus, train_steps=0, epochs=0, batch_size=4),
                            str(tmp_path / "model"))
    assert 1 <= result["epochs"] < 1.5


def test_fractional_epochs_stop_part_way_through_the_last_pass(tiny_corpus, tmp_path):
    # 8 pairs in batches of 2: 1.5 epochs stop near the 12th pair, after a checkpoint ending epoch 1.
    config = tiny_config(tiny_corpus, train_steps=0, epochs=1.5, batch_size=2, keep_checkpoints=5)
    result = training.train(config, str(tmp_path / "model"))
    assert 1.5 <= result["epochs"] < 2
    state = tf.train.get_checkpoint_state(str(tmp_path / "model"))
    steps = [int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths]
    assert len(steps) == 2 and steps[0] < steps[1] == result["step"]
    ended_epoch_1 = tf.train.load_checkpoint(state.all_model_checkpoint_paths[0])
    assert 1 <= ended_epoch_1.get_tensor("epochs/.ATTRIBUTES/VARIABLE_VALUE") < 1.5


def test_a_finished_run_goes_on_when_either_limit_is_raised(tiny_corpus, tmp_path):
    model_dir = str(tmp_path / "model")
    settings = dict(batch_size=4, checkpoint_every_steps=1000)
    first = training.train(tiny_config(tiny_corpus, train_steps=0, epochs=1, **settings), model_dir)
    assert 1 <= first["epochs"] < 1.5
    same = training.train(tiny_config(tiny_corpus, train_steps=0, epochs=1, **settings), model_dir)
    assert same["step"] == first["step"] and same["loss"] is None  # Nothing left to do.
    more_epochs = training.train(tiny_config(tiny_corpus, train_steps=0, epochs=3, **settings), model_dir)
    assert 3 <= more_epochs["epochs"] < 3.5 and more_epochs["step"] > first["step"]
    more_steps = training.train(
        tiny_config(tiny_corpus, train_steps=more_epochs["step"] + 5, epochs=0, **settings), model_dir
    )
    assert more_steps["step"] == more_epochs["step"] + 5 and more_steps["epochs"] > more_epochs["epochs"]
