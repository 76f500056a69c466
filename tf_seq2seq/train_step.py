"""The distributed training step: one batch in, summed metrics out, weights updated.

`make_train_step` runs `strategy.run` inside a `tf.function`: each replica
trains on its `replica_slice` of the batch it shares, the gradients are summed
over replicas once (`optimization.sum_over_replicas`), clipped by their global
norm and applied. The loss is the sum of token cross-entropies over
non-padding targets divided by the global number of sentences (or target
tokens) in the step, counted over all replicas, so replicas agree on its scale
and every strategy takes the step one replica would take on the whole batch.
"""

import keras
import tensorflow as tf

from tf_seq2seq import optimization
from tf_seq2seq import pipeline
from tf_seq2seq import vocab


def make_train_step(strategy, seq2seq, optimizer, clip_norm, element_spec, sharded_input=False,
                    normalization="sentences"):
    """Builds the distributed training step.

    Args:
        strategy: the `tf.distribute.Strategy` the model was built under.
        seq2seq: the `model.Seq2Seq` (its `loss_sum`, the training model's weights).
        optimizer: a Keras optimizer built for the model's variables.
        clip_norm: clip the global gradient norm to this value (0 disables).
        element_spec: the dataset's element spec; fixing it stops a retrace
            for every new bucket shape.
        sharded_input: whether each worker feeds its own batch (its input
            shard) rather than every worker the same global batch.
        normalization: divide the summed token losses by the step's global
            number of `sentences` (the paper) or target `tokens`.

    Returns:
        A `tf.function` from a batch (every replica sharing it trains on its
        `replica_slice`) to a dict of float32 scalars
        summed over replicas: `loss_sum`, `target_tokens`, `source_tokens`,
        `sentences`, and `grad_norm`, the global gradient norm before clipping.
    """
    variables = seq2seq.training_model.trainable_variables

    def replica_step(features, labels):
        context = tf.distribute.get_replica_context()
        features, labels = replica_slice((features, labels), *_batch_share(strategy, sharded_input))
        with tf.GradientTape() as tape:
            loss_sum, num_tokens = seq2seq.loss_sum(features, labels, training=True)
            num_sentences = tf.cast(tf.shape(labels)[0], tf.float32)
            divisor = num_sentences if normalization == "sentences" else num_tokens
            global_divisor = context.all_reduce(tf.distribute.ReduceOp.SUM, divisor)
            loss = loss_sum / tf.maximum(global_divisor, 1.0)
            # float16 training scales the loss up (and the optimizer scales the
            # gradients back down); otherwise the scale is 1.
            scaled_loss = optimizer.scale_loss(loss)
        grads = optimization.sum_over_replicas(context, tape.gradient(scaled_loss, variables))
        loss_scale = _loss_scale(optimizer)
        if clip_norm > 0:
            grads, norm = tf.clip_by_global_norm(grads, clip_norm * loss_scale)
        else:
            norm = tf.linalg.global_norm(grads)
        norm = norm / loss_scale
        optimizer.apply(grads, variables)  # No second reduction: see optimization.make_optimizer.
        return {
            "loss_sum": loss_sum,
            "target_tokens": num_tokens,
            "source_tokens": tf.reduce_sum(tf.cast(features["source"] != vocab.PAD_ID, tf.float32)),
            "sentences": num_sentences,
            # Every replica holds the same global norm: sum / replicas below.
            "grad_norm": norm / strategy.num_replicas_in_sync,
        }

    @tf.function(input_signature=[element_spec])
    def train_step(batch):
        metrics = strategy.run(replica_step, args=batch)
        return {
            name: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
            for name, value in metrics.items()
        }

    return train_step


def replica_slice(batch, replica, num_replicas):
    """Replica `replica`'s contiguous share of the rows of a global batch.

    Args:
        batch: nested structure of tensors [B, ...].
        replica: int32 scalar in [0, num_replicas).
        num_replicas: int.

    Returns:
        The same structure, rows `B * replica // num_replicas` up to
        `B * (replica + 1) // num_replicas` of each tensor (all rows for one replica).
    """
    if num_replicas == 1:
        return batch
    rows = tf.shape(tf.nest.flatten(batch)[0])[0]
    start = rows * replica // num_replicas
    end = rows * (replica + 1) // num_replicas
    return tf.nest.map_structure(lambda tensor: tensor[start:end], batch)


def _batch_share(strategy, sharded_input):
    """`(replica, replicas)`: this replica's index among those sharing its input batch.

    All replicas share the global batch; with sharded input, only the replicas
    of one worker share that worker's batch.
    """
    context = tf.distribute.get_replica_context()
    if not sharded_input:
        return context.replica_id_in_sync_group, context.num_replicas_in_sync
    local = len(strategy.extended.worker_devices)
    return context.replica_id_in_sync_group % local, local


def _loss_scale(optimizer):
    """The current loss scale of a `keras.optimizers.LossScaleOptimizer`, else 1."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return tf.cast(optimizer.dynamic_scale, tf.float32)
    return tf.constant(1.0)


def without_positions(features):
    """Training features (or their specs) without `pipeline.POSITION_KEYS`: what the model reads."""
    return {name: value for name, value in features.items() if name not in pipeline.POSITION_KEYS}
