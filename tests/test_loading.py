"""loading.py: translators from model directories (one model as an ensemble of one; members refused)."""

import pytest
import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import loading, training
from tf_seq2seq.errors import Seq2SeqError

from helpers import PAIRS, SOURCES, tiny_config, write_corpus


def test_from_model_dir_is_from_model_dirs_of_one(trained_model_dir):
    config = config_lib.load(trained_model_dir)
    single, checkpoint = loading.from_model_dir(config, trained_model_dir)
    ensemble, checkpoints = loading.from_model_dirs(config, [trained_model_dir])
    assert checkpoints == [checkpoint] and checkpoint.endswith(f"ckpt-{config.train_steps}")
    assert len(single.members) == len(ensemble.members) == 1
    outputs = [t.serve(tf.constant(SOURCES))["translations"].numpy().tolist() for t in (single, ensemble)]
    assert outputs[0] == outputs[1]


def test_models_with_different_vocabularies_are_refused(trained_model_dir, tmp_path):
    other_corpus = write_corpus(tmp_path / "corpus", {s: PAIRS[:4] for s in ("train", "val", "test")})
    other_dir = str(tmp_path / "other")
    training.train(tiny_config(other_corpus, train_steps=1), other_dir)
    with pytest.raises(Seq2SeqError, match="must share vocabularies"):
        loading.from_model_dirs(config_lib.load(trained_model_dir), [trained_model_dir, other_dir])
