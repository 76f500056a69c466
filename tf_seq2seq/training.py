"""The one training loop: any `tf.distribute` strategy, checkpoints, TensorBoard.

The loop is our own (`strategy.run` inside a `tf.function`) rather than
`keras.Model.fit`, so that every strategy runs the same code. The loss is the
sum of token cross-entropies over non-padding targets divided by the global
number of target tokens in the step, so replicas agree on its scale.

A model directory holds `config.json`, `vocab/`, `ckpt-N` checkpoints (model,
optimizer, step and input-pipeline position) and `train/` TensorBoard events.
Re-running `train` on the same directory resumes from the latest checkpoint.
"""

import math
import os
import time

import keras
import tensorflow as tf
from absl import logging

from tf_seq2seq import config as config_lib
from tf_seq2seq import corpus
from tf_seq2seq import model as model_lib
from tf_seq2seq import pipeline
from tf_seq2seq import tokenizer as tokenizer_lib
from tf_seq2seq import vocab
from tf_seq2seq.errors import Seq2SeqError

CHECKPOINT_NAME = "ckpt"


def prepare_model_dir(config, model_dir):
    """Saves the config and vocabularies on a first run; checks them on a resume.

    Args:
        config: the `config.Config` of this run.
        model_dir: the model directory (created if missing).

    Raises:
        Seq2SeqError: if the directory holds a model with different model fields.
    """
    if config_lib.exists(model_dir):
        differences = config_lib.load(model_dir).model_differences(config)
        if differences:
            raise Seq2SeqError(
                f"{model_dir} holds a model trained with other settings "
                f"(saved != requested): {'; '.join(differences)}"
            )
    config.save(model_dir)
    source_path, target_path = vocab.paths(model_dir)
    if os.path.exists(source_path) and os.path.exists(target_path):
        return
    logging.info("Building vocabularies from %s split %r", config.dataset, config.train_split)
    pairs = corpus.load(
        config.dataset, config.train_split, config.source_lang, config.target_lang, config.data_dir
    )
    source_tokens, target_tokens = vocab.build(
        pairs, tokenizer_lib.split_words, config.source_vocab_size, config.target_vocab_size
    )
    vocab.write(source_path, source_tokens)
    vocab.write(target_path, target_tokens)
    logging.info("Vocabularies: %d source, %d target tokens", len(source_tokens), len(target_tokens))


def build_model(config, model_dir):
    """Builds the `model.Seq2Seq` sized by the model directory's vocabularies."""
    source_path, target_path = vocab.paths(model_dir)
    return model_lib.Seq2Seq(config, len(vocab.read(source_path)), len(vocab.read(target_path)))


def make_optimizer(config):
    """The optimizer named by `config.optimizer` at `config.learning_rate`."""
    optimizers = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam}
    if config.optimizer not in optimizers:
        raise Seq2SeqError(
            f"unknown --optimizer {config.optimizer!r}: expected one of {sorted(optimizers)}"
        )
    return optimizers[config.optimizer](learning_rate=config.learning_rate)


def restore_weights(training_model, model_dir):
    """Loads the latest checkpoint's model weights (no optimizer, no data state).

    Returns:
        The checkpoint path.

    Raises:
        Seq2SeqError: if the directory has no checkpoint.
    """
    path = tf.train.latest_checkpoint(model_dir)
    if path is None:
        raise Seq2SeqError(f"no checkpoint in {model_dir}: train a model there first")
    tf.train.Checkpoint(model=training_model).restore(path).expect_partial()
    return path


def masked_loss_sum(labels, logits):
    """Summed cross-entropy over non-padding target tokens.

    Args:
        labels: int32 [batch, time], `vocab.PAD_ID` where padded.
        logits: float [batch, time, vocab].

    Returns:
        `(loss_sum, num_tokens)`, float32 scalars.
    """
    mask = tf.cast(labels != vocab.PAD_ID, tf.float32)
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, tf.cast(logits, tf.float32))
    return tf.reduce_sum(losses * mask), tf.reduce_sum(mask)


def make_train_step(strategy, training_model, optimizer, clip_norm, element_spec):
    """Builds the distributed training step.

    Args:
        strategy: the `tf.distribute.Strategy` the model was built under.
        training_model: `model.Seq2Seq.training_model`.
        optimizer: a Keras optimizer built for the model's variables.
        clip_norm: clip the global gradient norm to this value (0 disables).
        element_spec: the distributed dataset's element spec; fixing it stops
            a retrace for every new bucket shape.

    Returns:
        A `tf.function` from a distributed batch to `(loss_sum, num_tokens,
        grad_norm)`, float32 scalars summed (norm: of the global gradient).
    """
    variables = training_model.trainable_variables

    def replica_step(features, labels):
        context = tf.distribute.get_replica_context()
        with tf.GradientTape() as tape:
            logits = training_model(features, training=True)
            loss_sum, num_tokens = masked_loss_sum(labels, logits)
            global_tokens = context.all_reduce(tf.distribute.ReduceOp.SUM, num_tokens)
            loss = loss_sum / tf.maximum(global_tokens, 1.0)
        grads = context.all_reduce(tf.distribute.ReduceOp.SUM, tape.gradient(loss, variables))
        if clip_norm > 0:
            grads, norm = tf.clip_by_global_norm(grads, clip_norm)
        else:
            norm = tf.linalg.global_norm(grads)
        # The optimizer sums gradients over replicas again: hand it each
        # replica's share of the (already summed and clipped) gradient.
        share = 1.0 / strategy.num_replicas_in_sync
        optimizer.apply([_scale(g, share) for g in grads], variables)
        return loss_sum, num_tokens, norm

    @tf.function(input_signature=[element_spec])
    def train_step(batch):
        loss_sum, num_tokens, norm = strategy.run(replica_step, args=batch)
        total = lambda x: strategy.reduce(tf.distribute.ReduceOp.SUM, x, axis=None)
        mean = lambda x: strategy.reduce(tf.distribute.ReduceOp.MEAN, x, axis=None)
        return total(loss_sum), total(num_tokens), mean(norm)

    return train_step


def _scale(gradient, factor):
    """Multiplies a dense or sparse (`tf.IndexedSlices`) gradient by `factor`."""
    if isinstance(gradient, tf.IndexedSlices):
        return tf.IndexedSlices(gradient.values * factor, gradient.indices, gradient.dense_shape)
    return gradient * factor


class _Checkpoints:
    """A `tf.train.CheckpointManager` over the model, optimizer, step and data iterator.

    Input pipelines with Python code in them (`tf.py_function`,
    `from_generator`) cannot be saved; then checkpoints keep everything but
    the data position, and a warning says that a resumed run restarts the data.
    """

    def __init__(self, model_dir, keep, **objects):
        self._model_dir, self._keep, self._objects = model_dir, keep, objects
        self._manager = self._make_manager(objects)

    def _make_manager(self, objects):
        return tf.train.CheckpointManager(
            tf.train.Checkpoint(**objects), self._model_dir, max_to_keep=self._keep,
            checkpoint_name=CHECKPOINT_NAME,
        )

    @property
    def latest(self):
        """Path of the latest checkpoint, or None."""
        return self._manager.latest_checkpoint

    def restore(self):
        """Restores the latest checkpoint, if any; returns its path or None."""
        return self._manager.restore_or_initialize()

    def save(self, step):
        """Writes checkpoint `ckpt-STEP` and returns `step`."""
        try:
            path = self._manager.save(checkpoint_number=step)
        except tf.errors.FailedPreconditionError as e:
            if "data" not in self._objects:
                raise
            logging.warning(
                "The input pipeline cannot be checkpointed (%s); checkpoints will "
                "not hold the data position.", e.message.splitlines()[0],
            )
            self._objects.pop("data")
            self._manager = self._make_manager(self._objects)
            path = self._manager.save(checkpoint_number=step)
        logging.info("Saved %s", path)
        return step


class _Progress:
    """Accumulates loss and throughput between log lines and writes them out."""

    def __init__(self, writer, train_steps, learning_rate):
        self._writer = writer
        self._train_steps = train_steps
        self._learning_rate = learning_rate
        self._reset()

    def _reset(self):
        self._loss_sum = self._tokens = 0.0
        self._start = time.perf_counter()

    @property
    def pending(self):
        """Whether steps were added since the last report."""
        return self._tokens > 0

    def add(self, loss_sum, num_tokens):
        self._loss_sum += float(loss_sum)
        self._tokens += float(num_tokens)

    def report(self, step, grad_norm):
        """Logs and summarises the window since the last report; returns its loss."""
        seconds = time.perf_counter() - self._start
        loss = self._loss_sum / max(self._tokens, 1.0)
        perplexity = math.exp(min(loss, 50.0))
        tokens_per_sec = self._tokens / max(seconds, 1e-9)
        of_total = f"/{self._train_steps}" if self._train_steps else ""
        logging.info(
            "step %d%s  loss %.4f  perplexity %.2f  grad norm %.2f  %.0f target tokens/s",
            step, of_total, loss, perplexity, grad_norm, tokens_per_sec,
        )
        with self._writer.as_default(step=step):
            tf.summary.scalar("loss", loss)
            tf.summary.scalar("perplexity", perplexity)
            tf.summary.scalar("learning_rate", self._learning_rate)
            tf.summary.scalar("grad_norm", grad_norm)
            tf.summary.scalar("tokens_per_sec", tokens_per_sec)
        self._reset()
        return loss


def train(config, model_dir, strategy=None):
    """Trains (or resumes training) a model in `model_dir`.

    Stops when the global step reaches `config.train_steps` (if > 0) or after
    `config.epochs` passes over the training split, whichever comes first.

    Args:
        config: a `config.Config`.
        model_dir: the model directory.
        strategy: a `tf.distribute.Strategy`; the default strategy if None.

    Returns:
        A dict with `step` (int), `loss` (last logged mean token loss, or None
        if no step ran) and `seconds` (float, this run's training time).
    """
    strategy = strategy or tf.distribute.get_strategy()
    keras.utils.set_random_seed(config.seed)
    prepare_model_dir(config, model_dir)
    source_tokenizer, target_tokenizer = tokenizer_lib.from_model_dir(model_dir)
    pairs = corpus.load(
        config.dataset, config.train_split, config.source_lang, config.target_lang, config.data_dir
    )
    batches = pipeline.training_batches(pairs, source_tokenizer, target_tokenizer, config)

    with strategy.scope():
        seq2seq = build_model(config, model_dir)
        optimizer = make_optimizer(config)
        optimizer.build(seq2seq.training_model.trainable_variables)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
    distributed = strategy.experimental_distribute_dataset(batches)
    iterator = iter(distributed)
    checkpoints = _Checkpoints(
        model_dir, config.keep_checkpoints,
        model=seq2seq.training_model, optimizer=optimizer, step=step, data=iterator,
    )
    if checkpoints.restore():
        logging.info("Resumed from %s at step %d", checkpoints.latest, int(step))
    logging.info("Model: %d parameters", seq2seq.training_model.count_params())

    train_step = make_train_step(
        strategy, seq2seq.training_model, optimizer, config.clip_norm, distributed.element_spec
    )
    writer = tf.summary.create_file_writer(os.path.join(model_dir, "train"))
    progress = _Progress(writer, config.train_steps, config.learning_rate)
    start, saved_step, loss, grad_norm = time.perf_counter(), int(step), None, 0.0
    while not config.train_steps or int(step) < config.train_steps:
        batch = iterator.get_next_as_optional()
        if not batch.has_value():
            logging.info("Finished %d epochs", config.epochs)
            break
        loss_sum, num_tokens, grad_norm = train_step(batch.get_value())
        step.assign_add(1)
        progress.add(loss_sum, num_tokens)
        current = int(step)
        if current % config.log_every_steps == 0:
            loss = progress.report(current, float(grad_norm))
        if current % config.checkpoint_every_steps == 0:
            saved_step = checkpoints.save(current)
    if progress.pending:
        loss = progress.report(int(step), float(grad_norm))
    if int(step) != saved_step or checkpoints.latest is None:
        checkpoints.save(int(step))
    writer.flush()
    return {"step": int(step), "loss": loss, "seconds": time.perf_counter() - start}
