"""The model: initialisation, sizes, encoder states and the pinned checkpoint layout."""

import os

import numpy as np
import tensorflow as tf

from tf_seq2seq import model as model_lib

from helpers import tiny_config


def test_every_parameter_starts_uniform_in_init_scale():
    seq2seq = model_lib.Seq2Seq(tiny_config("x", init_scale=0.05), 50, 60)
    values = np.concatenate([v.numpy().ravel() for v in seq2seq.training_model.weights])
    assert values.min() >= -0.05 and values.max() <= 0.05
    assert values.max() > 0.049 and values.min() < -0.049
    assert abs(values.mean()) < 0.005


def test_parameter_counts_add_up():
    seq2seq = model_lib.Seq2Seq(tiny_config("x"), 50, 60)
    counts = seq2seq.parameter_counts()
    assert sum(counts.values()) == seq2seq.training_model.count_params()
    assert counts["softmax"] == 48 * 60 + 60
    assert counts["encoder LSTMs"] == 4 * 48 * (32 + 48 + 1) + 4 * 48 * (48 + 48 + 1)


def test_encoder_returns_each_layers_final_h_and_c_unchanged_by_padding():
    seq2seq = model_lib.Seq2Seq(tiny_config("x"), 50, 60)
    states = seq2seq.encoder(tf.constant([[5, 6, 7, 0, 0], [8, 9, 10, 11, 12]]))
    assert [s.shape for s in states] == [(2, 48)] * 4  # [h_1, c_1, h_2, c_2].
    alone = seq2seq.encoder(tf.constant([[5, 6, 7]]))
    for padded, unpadded in zip(states, alone):
        np.testing.assert_allclose(padded[0], unpadded[0], atol=1e-6)


def test_checkpoint_layout_is_unchanged(tmp_path):
    """Checkpoints of earlier versions must keep restoring: the functional model's
    object graph (and so every variable's checkpoint key) is pinned in
    tests/data/checkpoint_layout.txt, written by the first released layout."""
    from tf_seq2seq import config as config_lib

    seq2seq = model_lib.Seq2Seq(config_lib.Config(num_layers=2, units=48, embedding_dim=32), 100, 120)
    path = tf.train.Checkpoint(model=seq2seq.training_model).save(str(tmp_path / "ckpt"))
    layout = [f"{name} {shape}" for name, shape in tf.train.list_variables(path) if "model" in name]
    golden = os.path.join(os.path.dirname(__file__), "data", "checkpoint_layout.txt")
    assert layout == open(golden, encoding="utf-8").read().splitlines()
