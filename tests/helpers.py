"""What the test files share: the tiny corpus and config, fresh-process runs, the serving checks.

Every test file imports what it shares with another from here, never from
another test file (`tests/test_layout.py` checks it). The fixtures are in
`conftest.py`; the programs the tests run in fresh processes are files of
`clients/`, run with `run_client`.
"""

import dataclasses
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import model as model_lib
from tf_seq2seq import vocab

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
CLIENTS = os.path.join(TESTS, "clients")

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
SOURCES = [en for en, _ in PAIRS]
TARGETS = [fr for _, fr in PAIRS]
REFERENCES = [[fr] for fr in TARGETS]  # One reference per source, as `evaluation.score` takes them.

# The sentences of the tiny val split that the `run_with_evaluation` fixture evaluates (of 8).
EVAL_SENTENCES = 4

# 24 pairs of 3 words a side (subject x verb x object): length bucketing keeps
# a shuffled stream of them in order (test_replica_equality.py explains why).
SAME_LENGTH_PAIRS = [
    (f"{s} {v} {o}", f"{sf} {vf} {of}")
    for s, sf in (("tom", "tom"), ("mary", "marie"))
    for v, vf in (("sees", "voit"), ("likes", "aime"), ("draws", "dessine"))
    for o, of in (("cats", "chats"), ("dogs", "chiens"), ("birds", "oiseaux"), ("fish", "poissons"))
]


def write_corpus(directory, splits):
    """Writes `DIRECTORY/SPLIT.{en,fr}` from `{split: [(en, fr), ...]}`; returns the path."""
    os.makedirs(directory, exist_ok=True)
    for split, pairs in splits.items():
        for lang, side in (("en", 0), ("fr", 1)):
            with open(os.path.join(directory, f"{split}.{lang}"), "w", encoding="utf-8") as f:
                f.writelines(pair[side] + "\n" for pair in pairs)
    return str(directory)


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


def teacher_forced_perplexity(model_dir, pairs):
    """The perplexity of a model directory's latest weights on `[(source, target), ...]`,
    computed here in one padded batch: exp of the mean cross-entropy of the target tokens."""
    import math

    from tf_seq2seq import pipeline
    from tf_seq2seq import loading

    config = config_lib.load(model_dir)
    translator, _ = loading.from_model_dir(config, model_dir)
    sources = tf.constant([source for source, _ in pairs])
    source = pipeline.encode_source(translator.source_tokenizer, sources, config.reverse_source)
    target_in, labels = pipeline.encode_target(translator.target_tokenizer, tf.constant([t for _, t in pairs]))
    labels = labels.to_tensor()
    logits = translator.keras_models[0]({"source": source.to_tensor(), "target_in": target_in.to_tensor()})
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, tf.cast(logits, tf.float32))
    mask = tf.cast(labels != 0, tf.float32)
    return math.exp(float(tf.reduce_sum(losses * mask) / tf.reduce_sum(mask)))


def logged_scalars(model_dir, tag):
    """The values of training scalar `tag` that a run logged in `MODEL_DIR/train`, in step order."""
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    events = event_accumulator.EventAccumulator(
        os.path.join(model_dir, "train"), size_guidance={event_accumulator.TENSORS: 0}
    ).Reload()
    return [float(tensor_util.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)]


def load_events(directory):
    """The event files of `directory` (one TensorBoard run), every tensor and scalar kept."""
    from tensorboard.backend.event_processing import event_accumulator

    accumulator = event_accumulator.EventAccumulator(
        directory, size_guidance={event_accumulator.TENSORS: 0, event_accumulator.SCALARS: 0}
    )
    return accumulator.Reload()


# Fresh processes.

def python_env(**changes):
    """The environment of a fresh Python process: TensorFlow's C++ start-up lines off, and this
    checkout's `tf_seq2seq` first on the path (a script of `clients/` does not start in the
    checkout, and an installed copy may be another checkout's)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = os.pathsep.join([ROOT, *filter(None, [env.get("PYTHONPATH")])])
    env.update(changes)
    return env


def run_python(code_or_args, **kwargs):
    """Runs `python -c CODE` (str) or `python ARGS...` (list) in a fresh process.

    Keyword arguments go to `subprocess.run` (e.g. `input`, `env`, `text=False`).

    Returns:
        The `subprocess.CompletedProcess` (text mode, output captured).
    """
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    kwargs.setdefault("env", python_env())
    kwargs.setdefault("text", True)
    return subprocess.run([sys.executable, *args], capture_output=True, timeout=600, **kwargs)


def client(name):
    """The path of the program `clients/NAME.py`."""
    return os.path.join(CLIENTS, f"{name}.py")


def run_client(name, *args, **kwargs):
    """Runs `python tests/clients/NAME.py ARGS...` in a fresh process (as `run_python`)."""
    return run_python([client(name), *map(str, args)], **kwargs)


def last_json(result):
    """The JSON of a fresh process's last output line, once it succeeded."""
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def cli(command, *flags, **kwargs):
    """Runs `python -m tf_seq2seq.COMMAND FLAGS...` as a user does (as `run_python`)."""
    return run_python(["-m", f"tf_seq2seq.{command}", *flags], **kwargs)


def assert_one_line_error(result, message):
    """The command failed with a single `error: ...` line naming the problem, no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0], result.stderr


def train_process(model_dir, corpus_dir, **changes):
    """Starts `python -m tf_seq2seq.train` with the tiny recipe in the background (batches of 3,
    a checkpoint every 10 steps, unless `changes` say otherwise), its output piped."""
    settings = dict(batch_size=3, checkpoint_every_steps=10)
    flags = tiny_flags(corpus_dir, **{**settings, **changes})
    return subprocess.Popen(
        [sys.executable, "-m", "tf_seq2seq.train", f"--model_dir={model_dir}", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=python_env(),
    )


# The exported SavedModel, loaded in fresh processes as TF Serving and clients load it.

SENTENCES = SOURCES[:5] + ["Unknown words here.", ""]

# tf-text ops that exist in tensorflow-text 2.12, the version TF Serving links.
TF_TEXT_2_12_OPS = {"NormalizeUTF8", "RegexSplitWithOffsets", "FastWordpieceTokenizeWithOffsets"}


def in_process(translator):
    """`(translations, scores)` of the in-process `translator`'s serving signature on `SENTENCES`."""
    outputs = translator.serve(tf.constant(SENTENCES))
    return [t.decode() for t in outputs["translations"].numpy()], outputs["scores"].numpy()


def client_on_sentences(name, path, *args):
    """Runs `clients/NAME.py PATH SENTENCES ARGS...` on `SENTENCES` (JSON); returns its JSON output."""
    return last_json(run_client(name, path, json.dumps(SENTENCES), *args))


def assert_same_as_in_process(loaded, translator):
    """A loaded model's `translations` and `scores` on `SENTENCES` are the in-process translator's."""
    translations, scores = in_process(translator)
    assert loaded["translations"] == translations
    assert loaded["scores"] == pytest.approx(scores.tolist(), abs=1e-4)


def non_core_ops(path):
    """The ops of the SavedModel at `path` that core TensorFlow does not register."""
    return set(last_json(run_client("non_core_ops", path)))


def assert_xla_decodes_like_beam_search(path):
    """The `beam_search_xla` signature of a `jit_compile` export finds `beam_search`'s n-best lists."""
    results = client_on_sentences("xla_signatures", path)
    for beam in (1, 3):
        plain, xla = results[f"beam_search/{beam}"], results[f"beam_search_xla/{beam}"]
        assert xla["translations"] == plain["translations"]
        for xla_row, plain_row in zip(xla["scores"], plain["scores"]):
            assert xla_row == pytest.approx(plain_row, abs=1e-4)


def assert_survives_hostile_inputs(path):
    """The loaded SavedModel answers a thousand hostile inputs, none of them slowly."""
    report = last_json(run_client("hostile_inputs", path))
    assert report["count"] >= 1000
    assert report["slowest"] < 30.0  # A generous bound: no input makes a call run away.


def replay_warmup(path, *args):
    """`[[model, signature, batch size or error], ...]` of `clients/replay_warmup.py PATH ARGS...`."""
    return last_json(run_client("replay_warmup", path, *args))


# A toy decoder's vocabulary (test_decoding.py, test_attention.py).

VOCAB = 6  # <pad> <unk> <bos> <eos> and two words.
MAX_LENGTH = 4
# Tokens a live hypothesis may produce (beam search never emits <pad>/<bos>).
ALLOWED = [t for t in range(VOCAB) if t not in (vocab.PAD_ID, vocab.BOS_ID)]


def strip(ids):
    """Token ids up to and including the first <eos> (all of them if none)."""
    ids = list(ids)
    return ids[: ids.index(vocab.EOS_ID) + 1] if vocab.EOS_ID in ids else ids


# Misconfigured clusters: `(TF_CONFIG, the start of the error)`. test_distribution.py checks
# every message in process, test_multi_worker.py runs some through the train CLI (one line, exit 2).
BAD_TF_CONFIGS = [
    ("{not json", "TF_CONFIG is not valid JSON"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 3}}',
     "TF_CONFIG task worker:3 is not in the cluster"),
    ('{"cluster": {"worker": ["nohost"]}, "task": {"type": "worker", "index": 0}}',
     "TF_CONFIG address 'nohost' is not host:port"),
    ('{"cluster": {"ps": ["127.0.0.1:1"], "worker": ["127.0.0.1:2"]}, '
     '"task": {"type": "worker", "index": 0}}', "TF_CONFIG cluster job 'ps': multi_worker takes"),
    ('{"cluster": {"worker": ["a:1"]}}', 'TF_CONFIG needs "cluster" and "task" objects'),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}',
     'TF_CONFIG task type must be "chief" or "worker", got \'ps\''),
    ("", "--distribution=multi_worker needs the TF_CONFIG environment variable"),
]


def right_padded_ids(rng, lengths, width, vocab_size, first=None):
    """int32 [len(lengths), width]: random ids >= 4, then zeros (padding) on the right."""
    ids = np.zeros([len(lengths), width], np.int32)
    for row, length in enumerate(lengths):
        ids[row, :length] = rng.integers(4, vocab_size, length)
    if first is not None:
        ids[:, 0] = first
    return tf.constant(ids)


def small_seq2seq(policy="float32", dropout=0.0, attention="none"):
    """A 2 x 24 `model.Seq2Seq` (40 source, 50 target ids), seeded, built in Keras' global policy `policy`."""
    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(3)
    config = config_lib.Config(num_layers=2, units=24, embedding_dim=16, init_scale=0.3, dropout=dropout,
                               attention=attention)
    return model_lib.Seq2Seq(config, source_vocab_size=40, target_vocab_size=50)
