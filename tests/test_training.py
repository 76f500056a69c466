"""The training loop on a tiny real model: it learns, resumes, and guards its model dir.

When a run ends (--train_steps, --epochs) is tested in test_limits.py.
"""

import os

import tensorflow as tf

from tf_seq2seq import training, vocab

from helpers import tiny_config


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
