"""What a training step applies: learning-rate schedule, optimizer, precision, gradient sums.

`make_optimizer` builds the optimizer of `--optimizer` with the learning rate
of `learning_rate` (a constant, or the paper's `PaperSchedule`); its `apply`
takes the gradients `sum_over_replicas` already summed, so they cross the
network once.
"""

import math

import keras
import tensorflow as tf

from tf_seq2seq import settings
from tf_seq2seq import precision
from tf_seq2seq.errors import Seq2SeqError


class PaperSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Constant learning rate, then multiplied by `factor` every `every_steps` steps.

    The paper: lr 0.7, "after 5 epochs we began halving the learning rate
    every half epoch": the first halving happens at `start_step`.
    """

    def __init__(self, initial, start_step, every_steps, factor):
        self.initial = initial
        self.start_step = start_step
        self.every_steps = every_steps
        self.factor = factor

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        decays = tf.where(
            step >= self.start_step, tf.floor((step - self.start_step) / self.every_steps) + 1.0, 0.0
        )
        return self.initial * tf.pow(self.factor, decays)

    def get_config(self):
        return dict(initial=self.initial, start_step=self.start_step,
                    every_steps=self.every_steps, factor=self.factor)


def steps_per_epoch(pairs, config):
    """Training steps in one pass over `pairs`, or None if unknown.

    Counts corpus pairs / batch size; pairs dropped by the length filter and
    partly filled bucket batches make the real number differ slightly. Unknown
    when the corpus does not report its size or with token-based batches.
    """
    size = int(pairs.cardinality())
    if size < 0 or config.batch_tokens > 0:
        return None
    return math.ceil(size / config.batch_size)


def learning_rate(config, epoch_steps):
    """The learning rate or schedule of `config` (see `PaperSchedule`).

    Args:
        config: a `config.Config`.
        epoch_steps: steps per epoch (`steps_per_epoch`), or None if unknown.

    Raises:
        Seq2SeqError: if a decay is asked for but the epoch length is unknown.
    """
    if config.decay_start_epoch <= 0:
        return config.learning_rate
    if not epoch_steps:
        raise Seq2SeqError(
            "--decay_start_epoch needs the number of steps per epoch, unknown for this corpus "
            "or with --batch_tokens"
        )
    return PaperSchedule(
        config.learning_rate,
        config.decay_start_epoch * epoch_steps,
        max(1.0, config.decay_every_epochs * epoch_steps),
        config.decay_factor,
    )


class _AppliesReducedGradients:
    """Keras optimizer mixin: `apply` takes gradients already summed over replicas.

    Keras' TensorFlow optimizers all-reduce the gradients inside `apply`. The
    training step all-reduces them itself (clipping needs the global norm of
    the summed gradient first), so that second reduction would send every
    gradient over the network twice per step. The variables and slots stay
    those of the Keras optimizer (same checkpoint layout).
    """

    def _all_reduce_sum_gradients(self, grads_and_vars):
        return list(grads_and_vars)


class ReducedSGD(_AppliesReducedGradients, keras.optimizers.SGD):
    """`keras.optimizers.SGD` applying gradients already summed over replicas."""


class ReducedAdam(_AppliesReducedGradients, keras.optimizers.Adam):
    """`keras.optimizers.Adam` applying gradients already summed over replicas.

    Each variable's update is one fused kernel (`ResourceApplyAdam`) rather
    than Keras' ~10 elementwise ops, each a pass over the variable and its two
    moments (~10M parameters in the peer benchmark's model): the same math
    (`m += (g - m)(1 - beta_1)`, `v += (g^2 - v)(1 - beta_2)`,
    `w -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t) m / (sqrt(v) + epsilon)`),
    the same slot variables. Keras rounds `1 - beta` from float64, the kernel
    computes it in float32: `1 - beta_2` = 0.00099998713 rather than 0.001
    (the float32 nearest 0.999 is 0.99900001), so the moments differ from
    Keras' by ~1e-5 relative, the weights in the last bits of a step.
    An embedding's `tf.IndexedSlices` gradient is made dense first, as Keras
    does: every row's moments decay each step (exact Adam).
    """

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        step = tf.cast(self.iterations + 1, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=self._momentums[index].value.handle,
            v=self._velocities[index].value.handle,
            beta1_power=tf.pow(tf.cast(self.beta_1, dtype), step),
            beta2_power=tf.pow(tf.cast(self.beta_2, dtype), step),
            lr=tf.cast(learning_rate, dtype),
            beta1=tf.cast(self.beta_1, dtype),
            beta2=tf.cast(self.beta_2, dtype),
            epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(tf.convert_to_tensor(gradient), dtype),
        )


def make_optimizer(config, rate=None):
    """The optimizer named by `config.optimizer`, with the learning rate or schedule `rate`.

    `rate` is `learning_rate(config, epoch_steps)`, built once by the run; by
    default `learning_rate(config, None)` (a constant rate).

    Its `apply` takes gradients already summed over replicas (see
    `_AppliesReducedGradients`); Adam's epsilon is `config.adam_epsilon`. Under
    `mixed_float16` it scales the loss (`precision.loss_scaled`).
    """
    optimizers = dict(zip(settings.OPTIMIZERS, (ReducedSGD, ReducedAdam)))
    options = {"epsilon": config.adam_epsilon} if config.optimizer == "adam" else {}
    rate = learning_rate(config, None) if rate is None else rate
    optimizer = optimizers[config.optimizer](learning_rate=rate, **options)
    return precision.loss_scaled(optimizer, config)


def sum_over_replicas(context, grads):
    """The gradients summed over replicas, in one all-reduce, sparse rows unique.

    An embedding's gradient is a `tf.IndexedSlices` with one row per token
    occurrence, and all-reducing one concatenates the replicas' rows. Rows of
    the same index are summed before (less traffic) and after the all-reduce,
    so the result is the gradient one replica would get for the whole batch:
    its global norm and Adam's squared gradient are those of the summed rows,
    not of the occurrences.

    Args:
        context: the `tf.distribute.ReplicaContext` of the step.
        grads: list of dense `tf.Tensor` or `tf.IndexedSlices`, this replica's gradients.

    Returns:
        The list of summed gradients, the same on every replica.
    """
    grads = [_unique_rows(g) for g in grads]
    if context.num_replicas_in_sync == 1:
        return grads
    return [_unique_rows(g) for g in context.all_reduce(tf.distribute.ReduceOp.SUM, grads)]


def _unique_rows(gradient):
    """A `tf.IndexedSlices` with each row index once (values summed); a dense tensor as is.

    Args:
        gradient: a `tf.Tensor`, or `tf.IndexedSlices` with values [N, ...] and indices [N].

    Returns:
        The tensor, or `tf.IndexedSlices` with values [U, ...] and U unique indices.
    """
    if not isinstance(gradient, tf.IndexedSlices):
        return gradient
    rows, positions = tf.unique(gradient.indices)
    values = tf.math.unsorted_segment_sum(gradient.values, positions, tf.shape(rows)[0])
    return tf.IndexedSlices(values, rows, gradient.dense_shape)
