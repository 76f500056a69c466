"""The one training loop: any `tf.distribute` strategy, checkpoints, TensorBoard.

The loop is our own (`strategy.run` inside a `tf.function`) rather than
`keras.Model.fit`, so that every strategy runs the same code. The loss is the
sum of token cross-entropies over non-padding targets divided by the global
number of sentences in the step (`--loss_normalization`; or of target
tokens), so replicas agree on its scale.

A model directory holds `config.json`, `vocab/`, `ckpt-N` checkpoints (model,
optimizer, step and input-pipeline position), `train/` TensorBoard events and, in
a cluster, `data-shard-I/` (worker I's input position).
Re-running `train` on the same directory resumes from the latest checkpoint.
"""

import contextlib
import dataclasses
import math
import os
import shutil
import time

import keras
import tensorflow as tf
from absl import logging

from tf_seq2seq import checkpoints as checkpoints_lib
from tf_seq2seq import config as config_lib
from tf_seq2seq import corpus
from tf_seq2seq import dashboards
from tf_seq2seq import distribution
from tf_seq2seq import limits as limits_lib
from tf_seq2seq import model as model_lib
from tf_seq2seq import model_dir as model_dir_lib
from tf_seq2seq import optimization
from tf_seq2seq import pipeline
from tf_seq2seq import precision
from tf_seq2seq import progress as progress_lib
from tf_seq2seq import stop_signals
from tf_seq2seq import train_step as train_step_lib
from tf_seq2seq import tokenizer as tokenizer_lib
from tf_seq2seq import validation as validation_lib
from tf_seq2seq.errors import Seq2SeqError


def train(config, model_dir, strategy=None):
    """Trains (or resumes training) a model in `model_dir`.

    Checkpoints every `config.checkpoint_every_steps` steps, at the end of
    each epoch and when it stops.

    The chief holds `model_dir.training_lock` while it trains: a second run
    on the same directory fails at once.

    Stops when the global step reaches `config.train_steps` (if > 0), after
    `config.epochs` passes over the training split (if > 0; one pass when
    neither is set; see `limits.Limits`), on early stopping, or on SIGINT/SIGTERM,
    always after writing a checkpoint. Raising either limit and re-running
    continues from where the data stopped. A non-finite loss stops
    at once without saving, so the last good checkpoint stays the latest.

    In a cluster (`--distribution=multi_worker`) only the chief writes
    checkpoints, summaries and evaluations to `model_dir`; the other workers
    write to a temporary directory they delete at the end. Losing a peer is a
    `Seq2SeqError`: restart every worker and they resume from the chief's last
    checkpoint.

    Args:
        config: a `config.Config`.
        model_dir: the model directory (in a cluster, on storage every worker sees).
        strategy: a `tf.distribute.Strategy`; the default strategy if None.

    Returns:
        A dict with `step` (int), `epochs` (float, passes over the data
        trained on), `loss` (last logged mean token loss, or None
        if no step ran), `seconds` (float, this run's training time),
        `target_tokens` and `source_tokens` (this run's totals), `best_bleu`
        (None without evaluation), `throughput` (`progress.Progress.steady_throughput`),
        `total_steps` (the step limit, None if unknown) and `stopped_by`
        (the `stop_signals.StopRequest` that stopped the run, None if it ended by itself).

    Raises:
        Seq2SeqError: bad input, a model directory of another model or in use
            by another training run, or a non-finite loss.

    Examples:

    ```python
    from tf_seq2seq import config, training

    tiny = config.Config(dataset="sample", num_layers=1, units=32, embedding_dim=32, train_steps=20)
    result = training.train(tiny, "runs/tiny")
    assert result["step"] == 20  # And result["loss"], the last logged mean token loss.
    # Raising the limit and re-running resumes from runs/tiny/ckpt-20.
    assert training.train(tiny.replace(train_steps=40), "runs/tiny")["step"] == 40
    ```
    """
    strategy = strategy or tf.distribute.get_strategy()
    chief = distribution.is_chief(strategy)
    task = distribution.task_name(strategy)
    in_cluster = task != "local"
    if in_cluster and config.early_stopping_patience:
        raise Seq2SeqError("--early_stopping_patience is not supported with multi_worker: "
                           "workers would disagree on when to stop")
    write_dir = model_dir if chief else model_dir_lib.worker_dir(model_dir, task)
    try:
        with model_dir_lib.training_lock(model_dir) if chief else contextlib.nullcontext():
            return _train(config, model_dir, strategy, chief, write_dir)
    except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
            tf.errors.CancelledError) as e:
        if not in_cluster:
            raise
        raise Seq2SeqError(
            f"lost a cluster peer ({type(e).__name__}: {e.message.splitlines()[0]}); restart "
            f"every worker to resume from {tf.train.latest_checkpoint(model_dir)}"
        ) from None
    finally:
        if not chief:
            shutil.rmtree(write_dir, ignore_errors=True)


def _train(config, model_dir, strategy, chief, write_dir):
    """`train` in this process's role: `write_dir` is `model_dir` for the chief."""
    run = _setup(config, model_dir, strategy, chief, write_dir)
    return _loop(config, model_dir, chief, run)


@dataclasses.dataclass
class _Run:
    """What `_setup` prepares and `_loop` steps: a run's model, state, data and writers."""

    seq2seq: model_lib.Seq2Seq
    optimizer: keras.optimizers.Optimizer
    train_step: object  # `train_step.make_train_step`'s `tf.function`.
    step: tf.Variable  # The global step, int64.
    epochs: tf.Variable  # Passes over the data trained on so far (`limits.Limits.epochs_trained`).
    iterator: object  # Over `pipeline.training_batches`.
    checkpoints: checkpoints_lib.Checkpoints
    shard_checkpoints: object  # `checkpoints.Checkpoints` of this worker's input shard, or None.
    limits: limits_lib.Limits
    writer: object  # The `tf.summary` writer of `MODEL_DIR/train/` (a no-op one off the chief).
    validation: object  # `validation.Validation`, or None.

    def save(self, step):
        """Saves checkpoint `ckpt-STEP` (and this worker's shard position); returns `step`."""
        if self.shard_checkpoints:
            self.shard_checkpoints.save(step)
        return _save_finite(self.checkpoints, self.seq2seq.training_model, step)


def _setup(config, model_dir, strategy, chief, write_dir):
    """Prepares the model directory, data, model and optimizer, and restores the latest checkpoint.

    Returns:
        The `_Run`.
    """
    keras.utils.set_random_seed(config.seed)
    pairs = corpus.training_pairs(config)
    saved = model_dir_lib.prepare_model_dir(config, model_dir, pairs, chief)
    source_tokenizer, target_tokenizer = tokenizer_lib.from_model_dir(model_dir, config.tokenizer)
    shard = distribution.input_shard(strategy)
    batches = pipeline.training_batches(pairs, source_tokenizer, target_tokenizer, config, shard)
    sharded = shard[1] > 1
    if sharded:
        logging.info("Reading input shard %d of %d", *shard)

    with precision.training_precision(config), strategy.scope():
        seq2seq = model_lib.for_model_dir(config, model_dir)
        epoch_steps = optimization.steps_per_epoch(pairs, config)
        rate = optimization.learning_rate(config, epoch_steps)
        optimizer = optimization.make_optimizer(config, rate)
        optimizer.build(seq2seq.training_model.trainable_variables)
    model_dir_lib.check_vocabularies_fit(model_dir, seq2seq.training_model.trainable_variables)
    # Outside the scope: the host-side loop counter, not a mirrored variable.
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
    epochs = tf.Variable(0.0, dtype=tf.float64, trainable=False, name="epochs")
    # Every process iterates over its batches itself (each replica takes its
    # slice inside the step), so the iterator is checkpointable under any strategy.
    iterator = iter(batches)
    # The model checkpoints hold the chief's input position (shard 0). Another
    # worker's shard position is its own: saved beside them, in data-shard-INDEX.
    shard_checkpoints = checkpoints_lib.shard_checkpoints(model_dir, shard, config, iterator) if shard[0] else None
    checkpoints = checkpoints_lib.Checkpoints(
        write_dir, model_dir, config.keep_checkpoints,
        model=seq2seq.training_model, optimizer=optimizer, step=step, epochs=epochs,
        **({} if shard_checkpoints else {"data": iterator}),
    )
    restored = checkpoints.restore(restart_data=_corpus_change(saved, config))
    if checkpoints.data_restarted:  # The failed restore left the iterator unusable.
        iterator = checkpoints.replace_data(iter(batches))
    if restored:
        logging.info("Resumed from %s at step %d", restored, int(step))
        if shard_checkpoints:
            checkpoints_lib.restore_shard_position(shard_checkpoints, int(step))
        if not callable(rate):  # The checkpoint holds the old rate: use this run's.
            optimizer.learning_rate = rate
    progress_lib.log_parameters(seq2seq)

    features_spec, labels_spec = batches.element_spec
    train_step = train_step_lib.make_train_step(
        strategy, seq2seq, optimizer, config.clip_norm,
        (train_step_lib.without_positions(features_spec), labels_spec), sharded,
        config.loss_normalization,
    )
    writer = (
        tf.summary.create_file_writer(os.path.join(model_dir, dashboards.TRAIN)) if chief
        else tf.summary.create_noop_writer()
    )
    validation = (
        validation_lib.Validation(config, model_dir, seq2seq, source_tokenizer, target_tokenizer)
        if config.eval_every_steps > 0 and chief else None
    )
    limits = limits_lib.Limits(config, int(pairs.cardinality()), epoch_steps, by_step=sharded)
    logging.info("%s; now at step %d, epoch %.2f", limits.describe(), int(step), float(epochs))
    return _Run(seq2seq, optimizer, train_step, step, epochs, iterator, checkpoints,
                shard_checkpoints, limits, writer, validation)


def _corpus_change(saved, config):
    """Why the data position restarts: the training corpus differs from the saved config's; else None."""
    differences = saved.differences(config, config_lib.CORPUS_FIELDS) if saved else []
    return f"the training corpus changed ({'; '.join(differences)})" if differences else None


def _loop(config, model_dir, chief, run):
    """Trains until a limit, early stopping or a stop request; checkpoints on the way and at the end.

    With evaluation, a run that reaches its limit between two evaluations is
    evaluated at its last step too, so it always has a best checkpoint.

    The chief notes the run's start in `model_dir` (`dashboards.write_run_start`).

    Returns:
        `train`'s result dict.
    """
    step, epochs, limits, writer, validation = run.step, run.epochs, run.limits, run.writer, run.validation
    progress = progress_lib.Progress(writer, limits.total_steps, config.clip_norm, int(step))
    start, saved_step, loss = time.perf_counter(), int(step), None
    if chief:
        dashboards.write_run_start(config, model_dir, int(step))
    # On an error, `closing` removes the bar; a run that ends closes it itself.
    with stop_signals.stop_requests() as stop, contextlib.closing(progress):
        while not limits.reached(int(step), float(epochs)):
            features, labels = next(run.iterator)
            trace_graph = not progress.totals["steps"]
            if trace_graph:
                logging.info("Tracing the training step and filling the input pipeline (first step)")
                tf.summary.trace_on(graph=True)
            metrics = progress.add(run.train_step((train_step_lib.without_positions(features), labels)))
            step.assign_add(1)
            current, epochs_before = int(step), float(epochs)
            epochs.assign(limits.epochs_trained(features, current))
            progress.show(current, float(epochs))
            if trace_graph:
                with writer.as_default(step=current):
                    tf.summary.trace_export("train_step")
                progress.log_first_step(current, float(epochs))
            if not math.isfinite(metrics["loss_sum"]):
                _stop_non_finite("loss", current, run.checkpoints)
            if current % config.log_every_steps == 0:
                loss = progress.report(current, progress_lib.current_learning_rate(run.optimizer), float(epochs))
            ends_epoch = math.floor(float(epochs)) > math.floor(epochs_before)
            if current % config.checkpoint_every_steps == 0 or ends_epoch:
                saved_step = run.save(current)
            if validation and current % config.eval_every_steps == 0:
                validation.run(current)
                if validation.should_stop(config.early_stopping_patience):
                    logging.info("Early stopping: no better BLEU in %d evaluations",
                                 config.early_stopping_patience)
                    break
            if stop.is_set():
                break
        progress.close(finished=not stop.is_set())
        if progress.pending:
            loss = progress.report(int(step), progress_lib.current_learning_rate(run.optimizer), float(epochs))
        if int(step) != saved_step or run.checkpoints.latest is None:
            run.save(int(step))
        trained = progress.totals["steps"] and not stop.is_set()
        if validation and trained and int(step) % config.eval_every_steps:
            logging.info("Evaluating the last step, %d (not a multiple of --eval_every_steps)", int(step))
            validation.run(int(step))
    writer.flush()
    return {
        "step": int(step),
        "epochs": float(epochs),
        "loss": loss,
        "seconds": time.perf_counter() - start,
        "target_tokens": int(progress.totals["target_tokens"]),
        "source_tokens": int(progress.totals["source_tokens"]),
        "best_bleu": validation.best_bleu if validation else None,
        "throughput": progress.steady_throughput(),
        "total_steps": limits.total_steps,
        "stopped_by": stop if stop.is_set() else None,
    }


def _save_finite(checkpoints, training_model, step):
    """Saves checkpoint `ckpt-STEP`, unless a weight became NaN/inf: then stops the run.

    Returns:
        `step`.
    """
    weights = training_model.trainable_variables
    if not bool(tf.reduce_all([tf.reduce_all(tf.math.is_finite(w)) for w in weights])):
        _stop_non_finite("weights", step, checkpoints)
    return checkpoints.save(step)


def _stop_non_finite(what, step, checkpoints):
    """Raises the error that stops a run whose loss or weights became NaN/inf."""
    raise Seq2SeqError(
        f"non-finite {what} at step {step}: stopped without saving; the last good "
        f"checkpoint is {checkpoints.latest}. Lower --learning_rate or set --clip_norm"
    )
