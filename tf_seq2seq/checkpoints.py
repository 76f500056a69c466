"""Checkpoints: where they are written, which one a command restores, and how.

A model directory holds `ckpt-N` checkpoints (model, optimizer, step, epochs
and the input pipeline's position), the best by validation BLEU in `best/`
and, in a cluster, each other worker's input position in `data-shard-I/`.
`resolve` names the checkpoint a command asked for (`latest`, `best` or a
path), `last_checkpoints` it and those before it, whose weights
`restore_average` restores averaged; `Checkpoints` saves and restores a
training run's state.
"""

import os
import shutil

import numpy as np
import tensorflow as tf
from absl import logging

from tf_seq2seq.errors import Seq2SeqError

# Checkpoint files are named `CHECKPOINT_NAME-STEP`.
CHECKPOINT_NAME = "ckpt"
# Where validation keeps the checkpoint with the best BLEU, inside the model directory.
BEST_DIR = "best"


def resolve(model_dir, checkpoint="latest"):
    """The path of the checkpoint a command asked for.

    Args:
        model_dir: the model directory.
        checkpoint: `latest`, `best` (the best by validation BLEU, kept in
            `MODEL_DIR/best/`) or a checkpoint path such as `MODEL_DIR/ckpt-400`.

    Returns:
        The checkpoint path.

    Raises:
        Seq2SeqError: if there is no such checkpoint.
    """
    if checkpoint == "latest":
        path = tf.train.latest_checkpoint(model_dir)
        missing = f"no checkpoint in {model_dir}: train a model there first"
    elif checkpoint == "best":
        path = tf.train.latest_checkpoint(os.path.join(model_dir, BEST_DIR))
        missing = (f"no best checkpoint in {model_dir}/{BEST_DIR}: train with "
                   "--eval_every_steps to keep one")
    else:
        path = checkpoint if tf.io.gfile.exists(checkpoint + ".index") else None
        missing = f"checkpoint {checkpoint} not found (expected {checkpoint}.index)"
    if path is None:
        raise Seq2SeqError(missing)
    return path


def last_checkpoints(path, count):
    """Checkpoint `path` and the `count - 1` listed before it in its directory, oldest first.

    Args:
        path: a checkpoint path (`resolve`).
        count: how many checkpoints, >= 1.

    Returns:
        A list of `count` checkpoint paths ending with `path`, in the order of
        the directory's `checkpoint` file (the order they were saved in).

    Raises:
        Seq2SeqError: if fewer than `count` are listed up to `path`.
    """
    if count == 1:
        return [path]
    directory = os.path.dirname(path)
    state = tf.train.get_checkpoint_state(directory)
    names = [os.path.basename(p) for p in state.all_model_checkpoint_paths] if state else []
    name = os.path.basename(path)
    available = names[: names.index(name) + 1] if name in names else []
    if len(available) < count:
        raise Seq2SeqError(
            f"cannot average the last {count} checkpoints up to {path}: "
            f"{os.path.join(directory, 'checkpoint')} lists {len(available)} ({', '.join(available) or 'none'})"
        )
    return [os.path.join(directory, n) for n in available[-count:]]


def restore_average(checkpoint, variables, paths):
    """Restores the mean over checkpoints `paths` of each floating-point variable of `variables`.

    The other variables (e.g. integer seeds) keep the last checkpoint's values.
    The mean is taken in float64 and rounded once to each variable's dtype.

    Args:
        checkpoint: a `tf.train.Checkpoint` over objects holding `variables`.
        variables: the variables to average.
        paths: checkpoint paths (`last_checkpoints`), the last restored last.

    Raises:
        Seq2SeqError: if a checkpoint cannot be read (`restore_checkpoint`).
    """
    if len(paths) == 1:  # Nothing to average: no float64 copy of the weights.
        restore_checkpoint(checkpoint, paths[0]).expect_partial()
        return
    averaged = [v for v in variables if tf.as_dtype(v.dtype).is_floating]
    sums = None
    for path in paths:
        restore_checkpoint(checkpoint, path).expect_partial()
        values = [np.asarray(v.numpy(), np.float64) for v in averaged]
        sums = values if sums is None else [total + value for total, value in zip(sums, values)]
    for variable, total in zip(averaged, sums):
        variable.assign((total / len(paths)).astype(tf.as_dtype(variable.dtype).as_numpy_dtype))


def manager(checkpoint, directory, keep):
    """A `tf.train.CheckpointManager` writing `checkpoint` as `DIRECTORY/ckpt-STEP`, keeping `keep`."""
    return tf.train.CheckpointManager(checkpoint, directory, max_to_keep=keep,
                                      checkpoint_name=CHECKPOINT_NAME)


def restore_checkpoint(checkpoint, path):
    """`checkpoint.restore(path)`, a truncated or corrupt checkpoint being a `Seq2SeqError`.

    Returns:
        The restore status.

    Raises:
        Seq2SeqError: naming the checkpoint, when its files cannot be read.
    """
    try:
        return checkpoint.restore(path)
    except (IndexError, tf.errors.DataLossError, tf.errors.OutOfRangeError) as e:
        reason = e.message if isinstance(e, tf.errors.OpError) else str(e)
        raise Seq2SeqError(
            f"checkpoint {path} cannot be read ({reason.splitlines()[0]}): its files are truncated "
            f"or corrupt; name an intact one with --checkpoint, or make an earlier {CHECKPOINT_NAME}-N the "
            f"latest in {os.path.join(os.path.dirname(path), 'checkpoint')}"
        ) from None


class Checkpoints:
    """A `tf.train.CheckpointManager` over the model, optimizer, step and data iterator.

    Input pipelines with Python code in them (`tf.py_function`,
    `from_generator`) cannot be saved; then checkpoints keep everything but
    the data position, and a warning says that a resumed run restarts the data.

    In a cluster every worker saves (saving may need collectives) but only the
    chief into the model directory; every worker restores from there.
    """

    def __init__(self, write_dir, model_dir, keep, **objects):
        self._write_dir, self._restore_dir = write_dir, model_dir
        self._keep, self._objects = keep, objects
        self._manager = self._make_manager()
        self.data_restarted = False  # The restored checkpoint's data position did not fit.

    def _drop_data(self, reason):
        self._objects.pop("data", None)
        logging.warning(
            "The input pipeline position cannot be checkpointed (%s): a resumed run "
            "restarts the data from the beginning.", reason,
        )

    def _make_manager(self):
        return manager(tf.train.Checkpoint(**self._objects), self._write_dir, self._keep)

    @property
    def latest(self):
        """Path of the model directory's latest checkpoint, or None."""
        return tf.train.latest_checkpoint(self._restore_dir)

    @property
    def directory(self):
        """The directory checkpoints are restored from."""
        return self._restore_dir

    def restore(self, path=None, restart_data=None):
        """Restores checkpoint `path` (default: the latest, if any); returns its path or None.

        Args:
            path: a checkpoint path, or None for the latest.
            restart_data: why the data position must not be restored (e.g. the
                corpus changed), or None to restore it.
        """
        path = path or self.latest
        if path is None:
            return None
        if restart_data and "data" in self._objects:
            self._restore_without_data(path, restart_data)
            return path
        try:
            restore_checkpoint(self._manager.checkpoint, path)
        except tf.errors.NotFoundError as e:
            if "data" not in self._objects or "iterator" not in e.message:
                raise
            reason = e.message.splitlines()[0][:300]
            self._restore_without_data(path, f"it holds the input position of another version of the "
                                             f"input pipeline ({reason})")
        return path

    def _restore_without_data(self, path, why):
        """Restores all but the data position, which restarts from the beginning of the split."""
        logging.warning("Resuming from %s with the data from the beginning of the training split: %s",
                        path, why)
        others = {name: value for name, value in self._objects.items() if name != "data"}
        restore_checkpoint(tf.train.Checkpoint(**others), path).expect_partial()
        self.data_restarted = True

    def replace_data(self, iterator):
        """Checkpoints `iterator` (a fresh one, after `data_restarted`) from now on; returns it."""
        self._objects["data"] = iterator
        self._manager = self._make_manager()
        return iterator

    def save(self, step):
        """Writes checkpoint `ckpt-STEP` and returns `step`.

        Raises:
            Seq2SeqError: if the disk is full or not writable; the latest
                checkpoint stays the previous one.
        """
        try:
            path = self._manager.save(checkpoint_number=step)
        except tf.errors.FailedPreconditionError as e:
            if "data" not in self._objects:
                raise
            self._drop_data(e.message.splitlines()[0])
            self._manager = self._make_manager()
            path = self._manager.save(checkpoint_number=step)
        except (tf.errors.ResourceExhaustedError, tf.errors.PermissionDeniedError) as e:
            self._unwritable(step, e)
        logging.info("Saved %s", path)
        return step

    def _unwritable(self, step, error):
        """Removes what a failed save left and raises the error that stops the run."""
        prefix = os.path.join(self._write_dir, f"{CHECKPOINT_NAME}-{step}")
        shutil.rmtree(prefix + "_temp", ignore_errors=True)
        reason = error.message.rsplit(";", 1)[-1].split(" [Op:")[0].strip()
        raise Seq2SeqError(
            f"could not write checkpoint {prefix} ({reason}): the latest checkpoint is still "
            f"{self.latest}; make room and re-run to resume from it"
        ) from None


def shard_checkpoints(model_dir, shard, config, iterator):
    """Checkpoints of one worker's input shard position, in `MODEL_DIR/data-shard-INDEX`."""
    directory = os.path.join(model_dir, f"data-shard-{shard[0]}")
    return Checkpoints(directory, directory, config.keep_checkpoints, data=iterator)


def restore_shard_position(shard_checkpoints, step):
    """Restores the input shard position saved at `step`, or warns that the shard restarts."""
    path = os.path.join(shard_checkpoints.directory, f"{CHECKPOINT_NAME}-{step}")
    if tf.io.gfile.exists(path + ".index"):
        shard_checkpoints.restore(path)
    else:
        logging.warning("No input position of this shard at step %d (%s): its data restarts "
                        "from the beginning", step, path)
