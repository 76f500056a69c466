"""limits: when a training run ends (--train_steps and/or --epochs, counted exactly), on a tiny real model."""

import keras
import tensorflow as tf

from tf_seq2seq import corpus, pipeline, tokenizer, training

from helpers import tiny_config


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
