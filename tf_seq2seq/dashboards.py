"""What TensorBoard shows of a run besides its curves: HParams and a custom-scalars layout.

Written by the chief at the start of every run (and resume) into `MODEL_DIR`
itself, beside the `train/` and `eval/` event directories:

* HParams: the run's config (every flag of `config.Config`) and the metrics
  `METRICS`, read from `train/` and `eval/`. With
  `tensorboard --logdir PARENT` (the directory holding several model
  directories) each model directory is one session, so runs compare by eval
  BLEU. (With `--logdir MODEL_DIR` the model directory is TensorBoard's run
  `.` and HParams finds no metric values: point it at the parent.)
* Custom scalars: `LAYOUT`, the first category opening on loss, perplexity,
  BLEU and learning rate, train and eval curves drawn in the same chart.
"""

import dataclasses

import tensorflow as tf
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.custom_scalar import summary as custom_scalar_summary
from tensorboard.plugins.hparams import api as hparams_api

from tf_seq2seq import config as config_lib

TRAIN, EVAL = "train", "eval"  # The event subdirectories (TensorBoard runs) of MODEL_DIR.
# HParams columns: (run, scalar tag, display name).
METRICS = (
    (EVAL, "bleu", "eval BLEU"),
    (EVAL, "chrf", "eval chrF"),
    (EVAL, "perplexity", "eval perplexity"),
    (TRAIN, "loss", "train loss"),
    (TRAIN, "perplexity", "train perplexity"),
)


def _category(title, charts, closed=False):
    """A layout category of multiline charts, each `(title, exact scalar tag)`."""
    return layout_pb2.Category(
        title=title,
        closed=closed,
        chart=[
            layout_pb2.Chart(title=chart_title, multiline=layout_pb2.MultilineChartContent(tag=[f"^{tag}$"]))
            for chart_title, tag in charts
        ],
    )


LAYOUT = layout_pb2.Layout(category=[
    _category("tf-seq2seq", [
        ("loss (train, eval)", "loss"),
        ("perplexity (train, eval)", "perplexity"),
        ("BLEU (eval)", "bleu"),
        ("learning rate", "learning_rate"),
    ]),
    _category("tf-seq2seq: more", [
        ("chrF (eval)", "chrf"),
        ("gradient norm before clipping", "grad_norm"),
        ("fraction of steps clipped", "clipped_fraction"),
        ("target tokens/s", "target_tokens_per_sec"),
        ("seconds per step", "step_time"),
    ], closed=True),
])


def write_run_start(config, model_dir, step):
    """Writes the HParams config and values and `LAYOUT` to `model_dir`'s own event file.

    Args:
        config: the run's `config.Config`.
        model_dir: the model directory.
        step: int, the step the run starts (or resumes) at.
    """
    writer = tf.summary.create_file_writer(model_dir)
    with writer.as_default(step=step):
        hparams_api.hparams_config(
            hparams=[hparams_api.HParam(f.name) for f in dataclasses.fields(config_lib.Config)],
            metrics=[
                hparams_api.Metric(tag, group=run, display_name=name) for run, tag, name in METRICS
            ],
        )
        hparams_api.hparams(dataclasses.asdict(config))
        tf.summary.experimental.write_raw_pb(
            custom_scalar_summary.pb(LAYOUT).SerializeToString(), step=step
        )
    writer.close()
