"""Checkpoint averaging (--average_last_checkpoints): the mean of the last checkpoints' weights."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import checkpoints
from tf_seq2seq import config as config_lib
from tf_seq2seq import model as model_lib
from tf_seq2seq import loading
from tf_seq2seq.errors import Seq2SeqError

from helpers import PAIRS, run_python


def weights(model_dir, checkpoint="latest", average_last=1):
    """The float weights of a model restored from `model_dir`, as numpy arrays."""
    seq2seq = model_lib.for_model_dir(config_lib.load(model_dir), model_dir)
    seq2seq.restore(model_dir, checkpoint, average_last)
    return [v.numpy() for v in seq2seq.training_model.weights if tf.as_dtype(v.dtype).is_floating]


def listed(model_dir):
    """The checkpoint paths of `MODEL_DIR/checkpoint`, oldest first (the tiny run keeps 3)."""
    return [os.path.join(model_dir, os.path.basename(p))
            for p in tf.train.get_checkpoint_state(model_dir).all_model_checkpoint_paths]


@pytest.mark.parametrize("named, count", [(-1, 3), (-2, 2)])
def test_averaged_weights_are_the_numpy_mean_of_the_checkpoints(trained_model_dir, named, count):
    paths = listed(trained_model_dir)
    assert len(paths) == 3
    averaged = weights(trained_model_dir, paths[named], average_last=count)
    each = [weights(trained_model_dir, path) for path in paths[: len(paths) + named + 1][-count:]]
    assert len(each) == count and len(averaged) == len(each[0]) > 10
    for i, value in enumerate(averaged):
        stacked = np.stack([checkpoint_weights[i] for checkpoint_weights in each]).astype(np.float64)
        np.testing.assert_array_equal(value, stacked.mean(0).astype(np.float32))
    assert not all(np.array_equal(a, b) for a, b in zip(averaged, each[-1]))


def test_averaging_more_checkpoints_than_listed_is_refused(trained_model_dir):
    first = listed(trained_model_dir)[0]
    name = os.path.basename(first)
    with pytest.raises(Seq2SeqError, match=f"^cannot average the last 2 checkpoints up to {first}: "
                                           f".*checkpoint lists 1 \\({name}\\)$"):
        checkpoints.last_checkpoints(first, 2)


def test_an_ensemble_of_averaged_models_averages_each_member(trained_model_dir):
    config = config_lib.load(trained_model_dir)
    translator, paths = loading.from_model_dirs(config, [trained_model_dir] * 2, average_last=2)
    assert paths == [checkpoints.resolve(trained_model_dir)] * 2
    expected = weights(trained_model_dir, average_last=2)
    for member in translator.members:
        member_weights = [v.numpy() for v in member.training_model.weights if tf.as_dtype(v.dtype).is_floating]
        for value, wanted in zip(member_weights, expected):
            np.testing.assert_array_equal(value, wanted)


def test_translate_averages_from_the_command_line(trained_model_dir):
    sources = [en for en, _ in PAIRS]
    result = run_python(["-m", "tf_seq2seq.translate", f"--model_dir={trained_model_dir}",
                         "--average_last_checkpoints=2", "--num_hypotheses=2"],
                        input="".join(s + "\n" for s in sources))
    assert result.returncode == 0, result.stderr[-3000:]
    translator, _ = loading.from_model_dirs(config_lib.load(trained_model_dir), [trained_model_dir],
                                                   average_last=2)
    found = translator.beam_search(tf.constant(sources), tf.constant(4), tf.constant(2))
    printed = [line.split("\t") for line in result.stdout.splitlines()]
    assert [row[3] for row in printed] == [t.decode() for row in found["translations"].numpy() for t in row]
    assert [float(row[2]) for row in printed] == pytest.approx(found["scores"].numpy().ravel(), abs=1e-4)
