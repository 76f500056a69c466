"""When a training run ends: `--train_steps` and/or `--epochs`, counted exactly."""

import math

from tf_seq2seq.errors import Seq2SeqError


class Limits:
    """When a run ends: `--train_steps` and/or `--epochs`, whichever comes first.

    Only the limits given count: `--train_steps` alone runs that many steps,
    `--epochs` alone that many passes over the data; neither means one epoch.
    Epochs are counted from the pairs trained on (`pipeline.shuffle_passes`
    numbers them), so they are exact whatever the batching, and a finished
    run goes on when either limit is raised. With sharded input (`by_step`)
    every worker sees only its pairs, yet all must stop at the same step:
    epochs are then counted as steps over `optimization.steps_per_epoch`.
    """

    def __init__(self, config, corpus_size, epoch_steps, by_step=False):
        self.steps = config.train_steps
        self.epochs = config.epochs or (0.0 if self.steps else 1.0)
        self._corpus_size = corpus_size if corpus_size > 0 else None
        self._epoch_steps = epoch_steps
        self._by_step = by_step
        if self.epochs and self._corpus_size is None:
            raise Seq2SeqError(
                "--epochs needs the number of training pairs, unknown for this corpus: "
                "give --train_steps instead"
            )
        if self.epochs and by_step and not epoch_steps:
            raise Seq2SeqError(
                "--distribution=multi_worker with --epochs needs the steps per epoch, unknown "
                "with --batch_tokens: each worker reads its own input shard, so the run ends at "
                "a step count; give --train_steps instead"
            )

    def reached(self, step, epochs):
        """Whether a run at global `step`, having trained on `epochs` passes, stops."""
        return bool(self.steps and step >= self.steps) or bool(self.epochs and epochs >= self.epochs)

    @property
    def total_steps(self):
        """The step the run should end at (estimated for an epoch limit), or None."""
        estimates = [self.steps] if self.steps else []
        if self.epochs and self._epoch_steps:
            estimates.append(math.ceil(self.epochs * self._epoch_steps))
        return min(estimates, default=None)

    def describe(self):
        """Says which limit ends the run, for the log at its start."""
        parts = []
        if self.steps:
            parts.append(f"at step {self.steps} (--train_steps)")
        if self.epochs:
            about = f", about step {math.ceil(self.epochs * self._epoch_steps)}" if self._epoch_steps else ""
            parts.append(f"after {self.epochs:g} epochs (--epochs{about})")
        return "Training stops " + ", or ".join(parts) + (" if sooner" if len(parts) > 1 else "")

    def epochs_trained(self, features, step):
        """Passes over the data up to the furthest pair of a batch.

        With sharded input: `step / optimization.steps_per_epoch`.

        Args:
            features: a training batch's features with `pipeline.POSITION_KEYS`,
                int32 [B] each.
            step: the global step after this batch.
        """
        if self._by_step:
            return step / self._epoch_steps if self._epoch_steps else 0.0
        if self._corpus_size is None:
            return 0.0
        passes = features["pass"].numpy().astype("int64")
        positions = passes * self._corpus_size + features["index"].numpy() + 1
        return float(positions.max()) / self._corpus_size
