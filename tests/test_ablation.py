"""The reversal ablation driver: two tiny models, one table."""

import json

import pytest
import sacrebleu
import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import loading

from helpers import PAIRS, SOURCES, TARGETS, run_python, teacher_forced_perplexity, tiny_flags


def recomputed_scores(model_dir):
    """`(perplexity, bleu, hypotheses)` of a model on `PAIRS`, computed here: teacher-forced
    cross-entropy of the whole split in one padded batch, and sacrebleu on its beam search."""
    config = config_lib.load(model_dir)
    translator, _ = loading.from_model_dir(config, model_dir)
    outputs = translator.beam_search(tf.constant(SOURCES), tf.constant(config.beam_size), tf.constant(1))
    hypotheses = [row[0].decode("utf-8") for row in outputs["translations"].numpy()]
    bleu = sacrebleu.corpus_bleu(hypotheses, [TARGETS]).score
    return teacher_forced_perplexity(model_dir, PAIRS), bleu, hypotheses


def test_ablation_trains_both_orders_and_writes_the_paper_table(tiny_corpus, tmp_path):
    flags = tiny_flags(tiny_corpus, train_steps=60, log_every_steps=30, beam_size=2)
    result = run_python(["-m", "tf_seq2seq.ablation", f"--model_dir={tmp_path}", *flags])
    assert result.returncode == 0, result.stderr[-3000:]
    reversed_config = config_lib.load(tmp_path / "reversed")
    # The two runs differ in the source order only.
    assert reversed_config.model_differences(config_lib.load(tmp_path / "forward")) == [
        "reverse_source: True != False"
    ]
    results = json.load(open(tmp_path / "reversal_ablation.json"))
    table = (tmp_path / "reversal_ablation.md").read_text()
    assert result.stdout.endswith(table)
    for name in ("forward", "reversed"):
        own = json.load(open(tmp_path / name / "eval_test.json"))
        assert results[name] == own
        perplexity, bleu, hypotheses = recomputed_scores(tmp_path / name)
        assert (tmp_path / name / "eval_test.hyp").read_text(encoding="utf-8").splitlines() == hypotheses
        assert own["step"] == 60 and own["beam_size"] == 2 and own["num_sentences"] == len(PAIRS)
        assert own["perplexity"] == pytest.approx(perplexity, rel=1e-4)
        assert own["bleu"] == pytest.approx(bleu, abs=1e-9)
        row = next(line for line in table.splitlines() if line.startswith(f"| {name} |"))
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[1:3] == [f"{own['perplexity']:.2f}", f"{own['bleu']:.2f}"]
