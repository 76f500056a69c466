"""Shared fixtures: tiny real corpora and tiny models trained for real on CPU, once per session.

The helpers the test files share (`PAIRS`, `tiny_config`, `run_python`, ...) are in `helpers.py`.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tf_seq2seq import config as config_lib  # noqa: E402

from helpers import EVAL_SENTENCES, PAIRS, SAME_LENGTH_PAIRS, right_padded_ids, tiny_config, write_corpus  # noqa: E402


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """`files:` corpus directory whose train, val and test splits are `PAIRS`."""
    return write_corpus(tmp_path_factory.mktemp("corpus"), {"train": PAIRS, "val": PAIRS, "test": PAIRS})


@pytest.fixture(scope="session")
def same_length_corpus(tmp_path_factory):
    """`files:` corpus directory whose every split is `SAME_LENGTH_PAIRS`."""
    splits = {"train": SAME_LENGTH_PAIRS, "val": SAME_LENGTH_PAIRS, "test": SAME_LENGTH_PAIRS}
    return write_corpus(tmp_path_factory.mktemp("same_length_corpus"), splits)


@pytest.fixture(scope="session")
def trained_model_dir(tiny_corpus, tmp_path_factory):
    """A model directory with a tiny model trained until it has memorised `PAIRS`."""
    from tf_seq2seq import training

    model_dir = str(tmp_path_factory.mktemp("model"))
    training.train(tiny_config(tiny_corpus), model_dir)
    return model_dir


@pytest.fixture(scope="session")
def attention_model_dir(tiny_corpus, tmp_path_factory):
    """A tiny Luong-attention model trained briefly (the tests reading it need no quality)."""
    from tf_seq2seq import training

    model_dir = str(tmp_path_factory.mktemp("attention_model"))
    training.train(tiny_config(tiny_corpus, attention="luong", train_steps=30), model_dir)
    return model_dir


@pytest.fixture(scope="session")
def run_with_evaluation(tiny_corpus, tmp_path_factory):
    """`(model_dir, result)` of a tiny run in `.../runs/tiny/`: 20 steps, logged every 5, evaluated
    on `EVAL_SENTENCES` sentences every 10 (test_tensorboard.py, test_dashboards.py)."""
    from tf_seq2seq import training

    model_dir = str(tmp_path_factory.mktemp("runs") / "tiny")
    config = tiny_config(
        tiny_corpus, train_steps=20, log_every_steps=5, eval_every_steps=10, eval_sentences=EVAL_SENTENCES
    )
    return model_dir, training.train(config, model_dir)


@pytest.fixture(scope="session")
def french_wordpiece(tmp_path_factory):
    """`(tokenizer, tokens, counts)`: a WordPiece tokenizer learnt from 5,000 French sentences of
    the bundled sample, its vocabulary and the word counts it was learnt from."""
    from tf_seq2seq import corpus, tokenizer, vocab, word_counts

    pairs = corpus.load("sample", "train", "en", "fr").take(5000)
    counts = word_counts.count(pairs, tokenizer.count_words, 50, 50)
    _, target = vocab.build(counts, 200, 1000, "wordpiece")
    path = str(tmp_path_factory.mktemp("wordpiece") / "fr.txt")
    vocab.write(path, target)
    return tokenizer.WordpieceTokenizer(path), target, counts.target


@pytest.fixture(scope="session")
def exported_model(trained_model_dir, tmp_path_factory):
    """The version directory of `trained_model_dir` exported as a SavedModel (do not write to it)."""
    from tf_seq2seq import serving

    export_dir = str(tmp_path_factory.mktemp("saved_models") / "tiny")
    return serving.export_model_dir(config_lib.load(trained_model_dir), trained_model_dir, export_dir)


@pytest.fixture(scope="session")
def exported(exported_model, trained_model_dir):
    """`(version_path, translator)`: `exported_model`, and the in-process translator it was exported from."""
    from tf_seq2seq import loading

    translator, _ = loading.from_model_dir(config_lib.load(trained_model_dir), trained_model_dir)
    return exported_model, translator


@pytest.fixture
def batch():
    """A right-padded batch for `helpers.small_seq2seq`: source [4, 7] and target_in [4, 6] int32 ids."""
    rng = np.random.default_rng(0)
    return {
        "source": right_padded_ids(rng, [7, 3, 1, 5], 7, 40),
        "target_in": right_padded_ids(rng, [2, 6, 4, 1], 6, 50, first=2),
    }


@pytest.fixture
def float32_policy():
    """Keras' global policy back to float32 after a test that set another (`helpers.small_seq2seq`)."""
    yield
    keras.mixed_precision.set_global_policy("float32")
