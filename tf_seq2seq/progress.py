"""Training progress: log lines, a terminal bar and TensorBoard scalars of the steps run.

`Progress` sums the train step's metrics between log lines and reports loss,
perplexity, learning rate, gradient norm and throughput every
`--log_every_steps` steps, to the log and to `MODEL_DIR/train/`.
"""

import collections
import datetime
import math
import sys
import time

import tensorflow as tf
import tqdm
from absl import logging


class Progress:
    """Accumulates step metrics between log lines and writes them out.

    Log lines say the step (of the expected total), epoch, elapsed time and
    ETA; on a terminal a tqdm bar on stderr shows the same as it goes, from
    the end of the first step (which traces the graph, so its time would skew
    the bar's rate). The bar is cleared before each log line, so the two never
    share a line, and a run that ends by itself ends it at its last step.
    """

    def __init__(self, writer, total_steps, clip_norm, first_step):
        """`first_step` is the global step this run starts at; `total_steps` the expected last (or None)."""
        self._writer = writer
        self._total_steps = total_steps
        self._clip_norm = clip_norm
        self._run_start = time.perf_counter()
        self.totals = collections.Counter()  # Over the whole run.
        self._bar = None  # Opened after the first step.
        self._reset()

    def _open_bar(self, step):
        """Shows the terminal bar (if stderr is one) from `step` on; log lines clear it first."""
        self._bar = tqdm.tqdm(total=self._total_steps, initial=step, unit="step", disable=None,
                              file=sys.stderr, dynamic_ncols=True)
        logging.get_absl_handler().addFilter(self._clear_bar)

    def _clear_bar(self, record):
        """A logging filter: clears the bar before `record` is written (tqdm redraws it)."""
        del record
        self._bar.clear()
        return True

    def close(self, finished=False):
        """Removes the terminal bar (once), first ending it at the current step if the run `finished` by itself.

        The bar's total is the estimated last step (`limits.Limits.total_steps`):
        an epoch limit can end a run a few steps before or after it.
        """
        if self._bar is None:
            return
        logging.get_absl_handler().removeFilter(self._clear_bar)
        if finished and self._bar.total:
            self._bar.total = self._bar.n
            self._bar.refresh()
        self._bar.close()
        self._bar = None

    def _reset(self):
        self._window = collections.Counter()
        self._start = time.perf_counter()

    @property
    def pending(self):
        """Whether steps were added since the last report."""
        return self._window["steps"] > 0

    def add(self, metrics):
        """Adds one step's metrics (dict of scalars from the train step)."""
        values = {name: float(value) for name, value in metrics.items()}
        values["steps"] = 1
        values["clipped"] = float(0 < self._clip_norm < values["grad_norm"])
        self._window.update(values)
        self.totals.update(values)
        if self.totals["steps"] == 1:
            self._after_first_step = (time.perf_counter(), collections.Counter(self.totals))
        return values

    def show(self, step, epochs):
        """Advances the terminal bar to `step`, showing the epoch and loss so far."""
        if self._bar is None:
            return
        loss = self._window["loss_sum"] / max(self._window["target_tokens"], 1.0)
        self._bar.set_postfix_str(f"epoch {epochs:.2f} loss {loss:.3f}", refresh=False)
        self._bar.update(step - self._bar.n)

    def where(self, step, epochs):
        """`step S/TOTAL  epoch E  elapsed T  ETA T` for log lines."""
        elapsed = time.perf_counter() - self._run_start
        text = f"step {step}" + (f"/{self._total_steps}" if self._total_steps else "")
        text += f"  epoch {epochs:.2f}  elapsed {_duration(elapsed)}"
        rate = self.steady_throughput()
        if self._total_steps and rate:
            text += f"  ETA {_duration(max(self._total_steps - step, 0) / rate['steps_per_sec'])}"
        return text

    def log_first_step(self, step, epochs):
        """Logs that the first step of this run ran (it also traced the graph)."""
        seconds = time.perf_counter() - self._run_start
        loss = self._window["loss_sum"] / max(self._window["target_tokens"], 1.0)
        logging.info("%s  loss %.4f  (first step: %.1fs, includes tracing the graph)",
                     self.where(step, epochs), loss, seconds)
        self._open_bar(step)

    def steady_throughput(self):
        """Rates since the end of the first step (which traces the graph).

        Returns:
            A dict of `steps_per_sec`, `target_tokens_per_sec`,
            `source_target_tokens_per_sec`, or None before the second step.
        """
        if self.totals["steps"] < 2:
            return None
        start, first = self._after_first_step
        seconds = max(time.perf_counter() - start, 1e-9)
        done = {name: self.totals[name] - first[name] for name in ("steps", "target_tokens", "source_tokens")}
        return {
            "steps_per_sec": done["steps"] / seconds,
            "target_tokens_per_sec": done["target_tokens"] / seconds,
            "source_target_tokens_per_sec": (done["target_tokens"] + done["source_tokens"]) / seconds,
        }

    def report(self, step, learning_rate, epochs):
        """Logs and summarises the window since the last report; returns its loss."""
        window, seconds = self._window, max(time.perf_counter() - self._start, 1e-9)
        loss = window["loss_sum"] / max(window["target_tokens"], 1.0)
        scalars = {
            "loss": loss,
            "perplexity": math.exp(min(loss, 50.0)),
            "learning_rate": learning_rate,
            "grad_norm": window["grad_norm"] / window["steps"],
            "clipped_fraction": window["clipped"] / window["steps"],
            "target_tokens_per_sec": window["target_tokens"] / seconds,
            "source_target_tokens_per_sec": (window["target_tokens"] + window["source_tokens"]) / seconds,
            "sentences_per_sec": window["sentences"] / seconds,
            "step_time": seconds / window["steps"],
        }
        logging.info(
            "%s  loss %.4f  perplexity %.2f  lr %.3g  grad norm %.2f  %.0f target tokens/s",
            self.where(step, epochs), loss, scalars["perplexity"], learning_rate,
            scalars["grad_norm"], scalars["target_tokens_per_sec"],
        )
        with self._writer.as_default(step=step):
            for name, value in scalars.items():
                tf.summary.scalar(name, value)
        self._reset()
        return loss


def _duration(seconds):
    """`H:MM:SS` of a number of seconds."""
    return str(datetime.timedelta(seconds=round(seconds)))


def current_learning_rate(optimizer):
    """The optimizer's learning rate now, a Python float."""
    # `.numpy()` also reads a variable mirrored over replicas.
    return float(tf.convert_to_tensor(optimizer.learning_rate).numpy())


def log_parameters(seq2seq):
    """Logs the model's parameter count, in total and per layer group."""
    counts = seq2seq.parameter_counts()
    logging.info(
        "Model: %d parameters (%s)",
        sum(counts.values()),
        ", ".join(f"{name} {count}" for name, count in counts.items()),
    )
