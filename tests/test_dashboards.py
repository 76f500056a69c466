"""dashboards: the HParams (config and metrics) and the custom-scalars layout a run writes at its start."""

import dataclasses
import os

from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.custom_scalar import metadata as custom_scalar_metadata
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.util import tensor_util

from tf_seq2seq import config as config_lib

from helpers import load_events


def test_run_start_writes_hparams_with_eval_metrics_and_the_custom_scalars_layout(run_with_evaluation):
    model_dir, _ = run_with_evaluation
    events = load_events(model_dir)  # The model directory's own event file, not train/ or eval/.
    content = events.PluginTagToContent(hparams_metadata.PLUGIN_NAME)
    experiment = hparams_metadata.parse_experiment_plugin_data(content[hparams_metadata.EXPERIMENT_TAG])
    metrics = [(m.name.group, m.name.tag) for m in experiment.metric_infos]
    assert metrics == [("eval", "bleu"), ("eval", "chrf"), ("eval", "perplexity"),
                       ("train", "loss"), ("train", "perplexity")]
    session = hparams_metadata.parse_session_start_info_plugin_data(
        content[hparams_metadata.SESSION_START_INFO_TAG]
    )
    config = config_lib.load(model_dir)
    assert {name: value.ListFields()[0][1] for name, value in session.hparams.items()} == (
        dataclasses.asdict(config)
    )
    assert {info.name for info in experiment.hparam_infos} == set(dataclasses.asdict(config))

    layout = layout_pb2.Layout.FromString(tensor_util.make_ndarray(
        events.Tensors(custom_scalar_metadata.CONFIG_SUMMARY_TAG)[0].tensor_proto).item())
    first = layout.category[0]
    assert [chart.multiline.tag for chart in first.chart] == [
        ["^loss$"], ["^perplexity$"], ["^bleu$"], ["^learning_rate$"]
    ]
    assert not first.closed
    # Every chart draws tags the run writes; loss and perplexity from train and eval.
    runs = {run: set(load_events(os.path.join(model_dir, run)).Tags()["tensors"]) for run in ("train", "eval")}
    for chart in (c for category in layout.category for c in category.chart):
        (pattern,) = chart.multiline.tag
        drawn = {run for run, tags in runs.items() if pattern[1:-1] in tags}
        assert drawn, chart.title
        assert ("eval" in drawn) == ("eval" in chart.title or chart.title.startswith(("loss", "perplexity")))
