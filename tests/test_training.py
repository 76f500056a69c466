"""The training loop on a tiny real model: it learns, resumes, and guards its model dir."""

import os

import keras
import tensorflow as tf

from tf_seq2seq import corpus, pipeline, tokenizer, training, vocab

from conftest import tiny_config


def first_batch_reaching(config, model_dir, epochs):
    """`(step, epochs)` of the first batch of the run's training stream whose furthest
    pair completes `epochs` passes over the corpus, read from the batches themselves."""
    keras.utils.set_random_seed(config.seed)  # As `training.train` does.
    source, target = tokenizer.from_model_dir(model_dir, config.tokenizer)
    pairs = corpus.load_split(config, config.train_split)
    size = int(pairs.cardinality())
    batches = pipeline.training_batches(pairs, source, target, config)
    for step, (features, _) in enumerate(batches, start=1):
        furthest = int((features["pass"].numpy() * size + features["index"].numpy() + 1).max())
        if furthest >= epochs * size:
            return step, furthest / size


def test_training_writes_checkpoints_vocab_config_and_events(trained_model_dir):
    files = set(os.listdir(trained_model_dir))
    assert {"config.json", "vocab", "train", "checkpoint"} <= files
    kept = tf.train.get_checkpoint_state(trained_model_dir).all_model_checkpoint_paths
    assert len(kept) == 3 and kept[-1].endswith("ckpt-400")
    assert {f for f in files if f.startswith("ckpt-")} == {
        os.path.basename(path) + suffix for path in kept for suffix in (".index", ".data-00000-of-00001")
    }
    source_vocab, target_vocab = vocab.paths(trained_model_dir)
    assert sorted(os.listdir(os.path.dirname(source_vocab))) == sorted(
        os.path.basename(path) for path in (source_vocab, target_vocab)
    )
    (events,) = os.listdir(os.path.join(trained_model_dir, "train"))
    assert events.startswith("events.out.tfevents.")


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
    config = tiny_config(tiny_corpus, train_steps=0, epochs=3, batch_size=2)
    epochs = training.train(config, str(tmp_path / "epochs"))
    # Length buckets reorder pairs a little, so not exactly 12 steps of 2 pairs.
    assert (epochs["step"], epochs["epochs"]) == first_batch_reaching(config, str(tmp_path / "epochs"), 3)


def test_neither_limit_runs_one_epoch(tiny_corpus, tmp_path):
    config = tiny_config(tiny_corpus, train_steps=0, epochs=0, batch_size=4)
    result = training.train(config, str(tmp_path / "model"))
    assert (result["step"], result["epochs"]) == first_batch_reaching(config, str(tmp_path / "model"), 1)


def test_fractional_epochs_stop_part_way_through_the_last_pass(tiny_corpus, tmp_path):
    # 8 pairs in batches of 2: 1.5 epochs stop near the 12th pair, after a checkpoint ending epoch 1.
    config = tiny_config(tiny_corpus, train_steps=0, epochs=1.5, batch_size=2, keep_checkpoints=5)
    result = training.train(config, str(tmp_path / "model"))
    assert (result["step"], result["epochs"]) == first_batch_reaching(config, str(tmp_path / "model"), 1.5)
    state = tf.train.get_checkpoint_state(str(tmp_path / "model"))
    steps = [int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths]
    assert len(steps) == 2 and steps[0] < steps[1] == result["step"]
    ended_epoch_1 = tf.train.load_checkpoint(state.all_model_checkpoint_paths[0])
    assert 1 <= ended_epoch_1.get_tensor("epochs/.ATTRIBUTES/VARIABLE_VALUE") < 1.5


def test_a_finished_run_goes_on_when_either_limit_is_raised(tiny_corpus, tmp_path):
    model_dir = str(tmp_path / "model")
    settings = dict(batch_size=4, checkpoint_every_steps=1000)
    config = tiny_config(tiny_corpus, train_steps=0, epochs=1, **settings)
    first = training.train(config, model_dir)
    assert (first["step"], first["epochs"]) == first_batch_reaching(config, model_dir, 1)
    same = training.train(tiny_config(tiny_corpus, train_steps=0, epochs=1, **settings), model_dir)
    assert same["step"] == first["step"] and same["loss"] is None  # Nothing left to do.
    more_epochs = training.train(tiny_config(tiny_corpus, train_steps=0, epochs=3, **settings), model_dir)
    # The data goes on from where it stopped: the same stream as one run of 3 epochs.
    assert (more_epochs["step"], more_epochs["epochs"]) == first_batch_reaching(config, model_dir, 3)
    more_steps = training.train(
        tiny_config(tiny_corpus, train_steps=more_epochs["step"] + 5, epochs=0, **settings), model_dir
    )
    assert more_steps["step"] == more_epochs["step"] + 5 and more_steps["epochs"] > more_epochs["epochs"]


def test_a_run_ending_between_evaluations_is_evaluated_at_its_last_step(tiny_corpus, tmp_path, caplog):
    import json

    model_dir = str(tmp_path / "model")
    config = tiny_config(tiny_corpus, train_steps=7, eval_every_steps=5, eval_sentences=2, log_every_steps=5)
    with caplog.at_level("INFO", logger="absl"):
        result = training.train(config, model_dir)
    assert [int(line.split("eval step ")[1].split(":")[0]) for line in caplog.messages
            if line.startswith("eval step ")] == [5, 7]
    with open(os.path.join(model_dir, "best", "eval.json"), encoding="utf-8") as f:
        assert json.load(f)["bleu"] == result["best_bleu"]
    caplog.clear()
    with caplog.at_level("INFO", logger="absl"):
        training.train(config, model_dir)  # Nothing left to train: nothing evaluated again.
    assert not [line for line in caplog.messages if line.startswith("eval step ")]
