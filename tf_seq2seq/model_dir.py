"""The model directory: what a run saves before training, and where each worker writes.

A model directory holds `config.json` and `vocab/` (written here, by the chief,
on a first run and checked on a resume), then the checkpoints and events of
training (`checkpoints`, `progress`). In a cluster only the chief writes there;
every other worker writes to a temporary `worker_dir` it deletes at the end.
While it trains, the chief holds `training_lock`, so that a second training
run on the same directory is refused instead of mixing checkpoints.
"""

import contextlib
import fcntl
import hashlib
import os
import socket
import shutil
import tempfile
import time

import tensorflow as tf
from absl import logging

from tf_seq2seq import config as config_lib
from tf_seq2seq import corpus
from tf_seq2seq import pipeline
from tf_seq2seq import tokenizer as tokenizer_lib
from tf_seq2seq import vocab
from tf_seq2seq.errors import Seq2SeqError


LOCK_FILE = "train.lock"


@contextlib.contextmanager
def training_lock(model_dir):
    """Holds `MODEL_DIR/train.lock` while a run trains there (an exclusive `flock`).

    The kernel releases the lock when its process ends, however it ends, so the
    lock of a killed run is taken over without a check of its own. The file
    keeps the holder's pid and host for the message of a refused run. Where the
    file system does not lock (some network file systems), training goes on
    with a warning.

    Raises:
        Seq2SeqError: if another process holds the lock.
    """
    if "://" in model_dir:  # gs://, hdfs://: no kernel lock across hosts.
        logging.warning("%s is not on a local file system: nothing stops a second training run there",
                        model_dir)
        yield
        return
    os.makedirs(model_dir, exist_ok=True)
    path = os.path.join(model_dir, LOCK_FILE)
    with open(path, "a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise Seq2SeqError(
                f"{model_dir} is being trained by another process ({holder}, per {path}): wait "
                "for it to end or stop it, or train in another --model_dir"
            ) from None
        except OSError as e:
            logging.warning("%s cannot be locked (%s): nothing stops a second training run there",
                            path, e.strerror or e)
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        lock.flush()
        yield


def prepare_model_dir(config, model_dir, pairs, chief=True):
    """Saves the config and vocabularies on a first run; checks them on a resume.

    Args:
        config: the `config.Config` of this run.
        model_dir: the model directory (created if missing).
        pairs: the training split the run reads (`corpus.training_pairs`):
            the vocabularies are counted from it on a first run, and a resume
            reads it up to its first pair within the length limits.
        chief: whether this process writes; other workers of a cluster wait
            (up to `config.peer_timeout`) for the chief's vocabularies.

    Raises:
        Seq2SeqError: if the directory holds a model with different model
            fields, holds checkpoints without its config or vocabularies
            (nothing is rebuilt once a checkpoint exists), the chief's
            vocabularies do not appear in time, or no
            training pair is within the length limits (checked on a resume
            too: the limits are not model fields and may have changed).
    """
    if not chief:
        _wait_for_files(vocab.paths(model_dir), config.peer_timeout)
    trained = tf.train.latest_checkpoint(model_dir) is not None
    if trained:
        _check_trained_parts(model_dir)
    saved = config_lib.load(model_dir) if config_lib.exists(model_dir) else None
    if saved:
        differences = saved.model_differences(config)
        if differences and chief and not trained:
            _forget_untrained_model(model_dir, differences)
        elif differences:
            raise Seq2SeqError(
                f"{model_dir} holds a model trained with other settings "
                f"(saved != requested): {'; '.join(differences)}"
            )
    if not chief:
        return saved
    config.save(model_dir)
    source_path, target_path = vocab.paths(model_dir)
    if os.path.exists(source_path) and os.path.exists(target_path):
        _check_a_pair_kept(config, model_dir, pairs)
        return saved
    logging.info("Building vocabularies from %s split %r and counting the pairs outside the "
                 "length limits (one pass over the split)", config.dataset, config.train_split)
    counts = vocab.count_training_pairs(pairs, tokenizer_lib.count_words, config)
    _check_some_pairs_kept(counts, config)
    vocab.write_for_model_dir(counts, config, model_dir)
    logging.info(
        "%d of %d training pairs (%.2f%%) are empty, have a line over %d bytes, or are longer than "
        "--max_source_length=%d / --max_target_length=%d words, and are skipped in training",
        counts.dropped, counts.pairs, 100.0 * counts.dropped / max(counts.pairs, 1),
        corpus.max_line_bytes(config), config.max_source_length, config.max_target_length,
    )
    return saved


def _check_trained_parts(model_dir):
    """Refuses a directory with checkpoints whose config or vocabularies are gone.

    The checkpoints' weights belong to those files: building new ones would
    train (and later serve) a model whose ids mean other words.

    Raises:
        Seq2SeqError: naming the first missing file.
    """
    for path in (os.path.join(model_dir, config_lib.CONFIG_FILE), *vocab.paths(model_dir)):
        if not os.path.isfile(path):
            raise Seq2SeqError(
                f"{path} is missing, but {model_dir} holds checkpoints trained with it: restore it "
                "from a copy (or an export's assets), or train in a new --model_dir"
            )


def check_vocabularies_fit(model_dir, variables):
    """Refuses vocabularies whose sizes are not those of the latest checkpoint's embeddings.

    Args:
        model_dir: the model directory.
        variables: the trainable variables of the model built from its
            vocabularies, in the order the optimizer saves them.

    Raises:
        Seq2SeqError: naming the vocabulary file, its size and the checkpoint's.
    """
    latest = tf.train.latest_checkpoint(model_dir)
    if latest is None:
        return
    shapes = tf.train.load_checkpoint(latest).get_variable_to_shape_map()
    names = ("source_embedding/embeddings", "target_embedding/embeddings")  # `model.Seq2Seq`'s.
    embeddings = dict(zip(names, vocab.paths(model_dir)))
    for index, variable in enumerate(variables):
        saved = shapes.get(f"optimizer/_trainable_variables/{index}/.ATTRIBUTES/VARIABLE_VALUE")
        if variable.path in embeddings and saved and saved[0] != variable.shape[0]:
            raise Seq2SeqError(
                f"{embeddings[variable.path]} has {variable.shape[0]} tokens, but {latest} was trained "
                f"with {saved[0]}: restore the vocabulary it was trained with, or train in a new --model_dir"
            )


def _check_some_pairs_kept(counts, config):
    """Refuses a training split whose pairs are all skipped (training would wait forever).

    Raises:
        Seq2SeqError: if every pair counted is empty or beyond the length limits.
    """
    if counts.dropped < counts.pairs:
        return
    raise _nothing_to_train(config, f"none of the {counts.pairs} training pairs")


def _check_a_pair_kept(config, model_dir, pairs):
    """`_check_some_pairs_kept` for a resume, which counts nothing: reads up to the first pair kept.

    Raises:
        Seq2SeqError: if no pair of the split is non-empty and within the length limits.
    """
    source_tokenizer, target_tokenizer = tokenizer_lib.from_model_dir(model_dir, config.tokenizer)
    if not pipeline.any_pair_kept(pairs, source_tokenizer, target_tokenizer, config):
        raise _nothing_to_train(config, "no training pair")


def _nothing_to_train(config, which_pairs):
    """The error for a split of which `which_pairs` is within the length limits."""
    return Seq2SeqError(
        f"{which_pairs} read from {config.dataset} split {config.train_split!r} is non-empty and "
        f"within --max_source_length={config.max_source_length} / --max_target_length="
        f"{config.max_target_length} words: nothing to train on"
    )


def _forget_untrained_model(model_dir, differences):
    """Lets a retry with other model settings reuse a directory that holds no checkpoint.

    A run that failed before its first checkpoint left only `config.json` (and
    perhaps vocabularies built for the old settings): nothing was trained, so
    the new settings replace them.
    """
    logging.warning("%s has no checkpoint: replacing its untrained settings (%s)",
                    model_dir, "; ".join(differences))
    shutil.rmtree(os.path.dirname(vocab.paths(model_dir)[0]), ignore_errors=True)


def _wait_for_files(paths, seconds):
    """Waits until every path exists; raises `Seq2SeqError` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not all(os.path.exists(p) for p in paths):
        if time.monotonic() > deadline:
            raise Seq2SeqError(
                f"{' and '.join(paths)} did not appear within --peer_timeout={seconds:g}s: the "
                "chief writes them, and --model_dir must be on storage every worker sees"
            )
        time.sleep(0.5)


def worker_dir(model_dir, task_name):
    """A fresh temporary directory for a non-chief worker's writes.

    Named after the task and model directory, so a worker restarted after a
    crash clears what its previous run left.
    """
    digest = hashlib.sha256(os.path.abspath(model_dir).encode()).hexdigest()[:12]
    path = os.path.join(tempfile.gettempdir(), f"tf-seq2seq-{task_name}-{digest}")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path
