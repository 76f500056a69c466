"""The paper's reversal ablation: the same model trained with and without a reversed source.

    python -m tf_seq2seq.ablation --flagfile=pipelines/reversal_ablation.flags \\
        --model_dir=runs/reversal

Trains `MODEL_DIR/reversed` and `MODEL_DIR/forward` with identical settings and
seed (only `--reverse_source` differs; an interrupted run resumes), evaluates
both on `--test_split` (teacher-forced perplexity, sacrebleu BLEU with
`--beam_size`), and writes the paper-style table to
`MODEL_DIR/reversal_ablation.{json,md}`.
"""

import json
import os

from tf_seq2seq import cli
from tf_seq2seq import distribution
from tf_seq2seq import evaluation
from tf_seq2seq import flags
from tf_seq2seq import training
from tf_seq2seq import loading

FLAGS = flags.FLAGS
# The paper's Section 3.3 numbers (WMT'14 En->Fr).
PAPER = {"forward": {"perplexity": 5.8, "bleu": 25.9}, "reversed": {"perplexity": 4.7, "bleu": 30.6}}


def train_and_evaluate(config, model_dir, strategy):
    """Trains `config` in `model_dir` (or resumes) and evaluates it on the test split.

    Returns:
        The evaluation results dict (`evaluation.evaluate`) with `perplexity`
        and the training `step`.
    """
    trained = training.train(config, model_dir, strategy)
    translator, _ = loading.from_model_dir(config, model_dir)
    split = config.test_split
    eval_set = evaluation.read_eval_set(config, split)
    perplexity = evaluation.Perplexity(
        translator.keras_models[0], translator.source_tokenizer, translator.target_tokenizer, config,
        eval_set.pairs,
    )()
    return evaluation.evaluate(
        translator.beam_search, eval_set.sources, eval_set.references, config.beam_size,
        os.path.join(model_dir, f"eval_{split}"), split=split, perplexity=perplexity,
        step=trained["step"],
    )


def table(results):
    """The paper-style markdown table of `{"forward": results, "reversed": results}`."""
    lines = [
        "| source order | test perplexity | test BLEU | paper perplexity | paper BLEU |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name in ("forward", "reversed"):
        ours, paper = results[name], PAPER[name]
        lines.append(
            f"| {name} | {ours['perplexity']:.2f} | {ours['bleu']:.2f} "
            f"| {paper['perplexity']} | {paper['bleu']} |"
        )
    return "\n".join(lines) + "\n"


def main():
    cli.check_writable(FLAGS.model_dir, "--model_dir")
    config = flags.config_from_flags()
    strategy = distribution.make_strategy(config)
    results = {}
    for name, reverse in (("reversed", True), ("forward", False)):
        model_dir = os.path.join(FLAGS.model_dir, name)
        results[name] = train_and_evaluate(config.replace(reverse_source=reverse), model_dir, strategy)
    with open(os.path.join(FLAGS.model_dir, "reversal_ablation.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    markdown = table(results)
    with open(os.path.join(FLAGS.model_dir, "reversal_ablation.md"), "w", encoding="utf-8") as f:
        f.write(markdown)
    print(markdown, end="")


def run():
    cli.run(main, reads=flags.CONFIG_FLAGS + ("model_dir",), required=["model_dir"])


if __name__ == "__main__":
    run()
