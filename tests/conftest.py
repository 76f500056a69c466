"""Shared fixtures: tiny real corpora and one tiny model trained for real on CPU."""

import dataclasses
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from tf_seq2seq import config as config_lib  # noqa: E402

# Eight short English-French pairs with distinct first words, so a tiny model
# can learn to translate each of them exactly.
PAIRS = [
    ("Go.", "Va !"),
    ("Hi.", "Salut."),
    ("Run!", "Cours !"),
    ("Who are you?", "Qui es-tu ?"),
    ("I am cold.", "J'ai froid."),
    ("Tom is here.", "Tom est là."),
    ("We love cats.", "Nous aimons les chats."),
    ("Be quiet, please.", "Tais-toi, s'il te plaît."),
]


def write_corpus(directory, splits):
    """Writes `DIRECTORY/SPLIT.{en,fr}` from `{split: [(en, fr), ...]}`; returns the path."""
    os.makedirs(directory, exist_ok=True)
    for split, pairs in splits.items():
        for lang, side in (("en", 0), ("fr", 1)):
            with open(os.path.join(directory, f"{split}.{lang}"), "w", encoding="utf-8") as f:
                f.writelines(pair[side] + "\n" for pair in pairs)
    return str(directory)


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """`files:` corpus directory whose train, val and test splits are `PAIRS`."""
    return write_corpus(tmp_path_factory.mktemp("corpus"), {"train": PAIRS, "val": PAIRS, "test": PAIRS})


def tiny_config(corpus_dir, **changes):
    """A config for a model small enough to train in seconds on the tiny corpus."""
    values = dict(
        dataset=f"files:{corpus_dir}",
        num_layers=2,
        units=48,
        embedding_dim=32,
        source_vocab_size=100,
        target_vocab_size=100,
        batch_size=8,
        epochs=1000,
        train_steps=400,
        learning_rate=0.01,
        checkpoint_every_steps=100,
        log_every_steps=50,
        beam_size=3,
        shuffle_buffer=8,
        shortlist=False,  # Its own tests (test_shortlist.py, test_serving.py) turn it on.
    )
    values.update(changes)
    return config_lib.Config(**values)


def tiny_flags(corpus_dir, **changes):
    """`tiny_config` as command-line flags for the CLIs."""
    config = tiny_config(corpus_dir, **changes)
    return [f"--{name}={value}" for name, value in dataclasses.asdict(config).items()]


@pytest.fixture(scope="session")
def trained_model_dir(tiny_corpus, tmp_path_factory):
    """A model directory with a tiny model trained until it has memorised `PAIRS`."""
    from tf_seq2seq import training

    model_dir = str(tmp_path_factory.mktemp("model"))
    training.train(tiny_config(tiny_corpus), model_dir)
    return model_dir


@pytest.fixture(scope="session")
def french_wordpiece(tmp_path_factory):
    """`(tokenizer, tokens, counts)`: a WordPiece tokenizer learnt from 5,000 French sentences of
    the bundled sample, its vocabulary and the word counts it was learnt from."""
    from tf_seq2seq import corpus, tokenizer, vocab

    pairs = corpus.load("sample", "train", "en", "fr").take(5000)
    counts = vocab.count(pairs, tokenizer.count_words, 50, 50)
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


def teacher_forced_perplexity(model_dir, pairs):
    """The perplexity of a model directory's latest weights on `[(source, target), ...]`,
    computed here in one padded batch: exp of the mean cross-entropy of the target tokens."""
    import math

    import tensorflow as tf

    from tf_seq2seq import pipeline
    from tf_seq2seq import translator as translator_lib

    config = config_lib.load(model_dir)
    translator, _ = translator_lib.from_model_dir(config, model_dir)
    sources = tf.constant([source for source, _ in pairs])
    source = pipeline.encode_source(translator.source_tokenizer, sources, config.reverse_source)
    target_in, labels = pipeline.encode_target(translator.target_tokenizer, tf.constant([t for _, t in pairs]))
    labels = labels.to_tensor()
    logits = translator.keras_models[0]({"source": source.to_tensor(), "target_in": target_in.to_tensor()})
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, tf.cast(logits, tf.float32))
    mask = tf.cast(labels != 0, tf.float32)
    return math.exp(float(tf.reduce_sum(losses * mask) / tf.reduce_sum(mask)))


def run_python(code_or_args, **kwargs):
    """Runs `python -c CODE` (str) or `python ARGS...` (list) in a fresh process.

    Keyword arguments go to `subprocess.run` (e.g. `input`, `env`, `text=False`).

    Returns:
        The `subprocess.CompletedProcess` (text mode, output captured).
    """
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    kwargs.setdefault("env", dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    kwargs.setdefault("text", True)
    return subprocess.run([sys.executable, *args], capture_output=True, timeout=600, **kwargs)


def logged_scalars(model_dir, tag):
    """The values of training scalar `tag` that a run logged in `MODEL_DIR/train`, in step order."""
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    events = event_accumulator.EventAccumulator(
        os.path.join(model_dir, "train"), size_guidance={event_accumulator.TENSORS: 0}
    ).Reload()
    return [float(tensor_util.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)]
