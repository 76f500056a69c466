"""The reversal ablation driver: two tiny models, one table."""

import json

import pytest

from tf_seq2seq import config as config_lib

from conftest import run_python, tiny_flags


def test_ablation_trains_both_orders_and_writes_the_paper_table(tiny_corpus, tmp_path):
    flags = tiny_flags(tiny_corpus, train_steps=60, log_every_steps=30, beam_size=2)
    result = run_python(["-m", "tf_seq2seq.ablation", f"--model_dir={tmp_path}", *flags])
    assert result.returncode == 0, result.stderr[-3000:]
    assert config_lib.load(tmp_path / "reversed").reverse_source
    assert not config_lib.load(tmp_path / "forward").reverse_source
    results = json.load(open(tmp_path / "reversal_ablation.json"))
    table = (tmp_path / "reversal_ablation.md").read_text()
    assert result.stdout.endswith(table)
    for name in ("forward", "reversed"):
        own = json.load(open(tmp_path / name / "eval_test.json"))
        assert results[name] == own
        assert own["step"] == 60 and own["perplexity"] > 1.0 and 0 <= own["bleu"] <= 100 + 1e-6
        row = next(line for line in table.splitlines() if line.startswith(f"| {name} |"))
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert float(cells[1]) == pytest.approx(own["perplexity"], abs=0.01)
        assert float(cells[2]) == pytest.approx(own["bleu"], abs=0.01)
