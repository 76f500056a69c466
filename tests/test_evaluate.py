"""The evaluate command, run as a user runs it in a fresh process: the JSON and hypotheses it writes."""

import json
import os

import pytest
import sacrebleu

from helpers import PAIRS, assert_one_line_error, cli


def test_evaluate_on_a_directory_without_a_model(tmp_path):
    assert_one_line_error(cli("evaluate", f"--model_dir={tmp_path}"), "config.json not found")


def test_evaluate_cli_writes_the_json_contract(trained_model_dir, tmp_path):
    result = cli("evaluate", f"--model_dir={trained_model_dir}", "--split=test", "--beam_size=2",
                 f"--output_dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    assert "test: BLEU" in result.stdout
    assert not [name for name in os.listdir(trained_model_dir) if name.startswith("eval_")]
    results = json.load(open(os.path.join(tmp_path, "eval_test.json")))
    assert {"bleu", "chrf", "sacrebleu_signature", "num_sentences", "beam_size"} <= set(results)
    assert results["num_sentences"] == len(PAIRS) and results["beam_size"] == 2
    hypotheses = open(os.path.join(tmp_path, "eval_test.hyp"), encoding="utf-8").read()
    recomputed = sacrebleu.corpus_bleu(hypotheses.splitlines(), [[fr for _, fr in PAIRS]])
    assert results["bleu"] == pytest.approx(recomputed.score)
    assert results["bleu"] == pytest.approx(100.0)  # The tiny model memorised the pairs.
    assert 1.0 <= results["perplexity"] < 1.5


def test_evaluate_cli_on_source_and_reference_files(trained_model_dir, tmp_path):
    sources, references = tmp_path / "news.en", tmp_path / "news.fr"
    # Long enough for 4-grams; the first source twice, with another reference.
    sources.write_text("We love cats.\nBe quiet, please.\nWe love cats.\n", encoding="utf-8")
    references.write_text(
        "Nous aimons les chats.\nTais-toi, s'il te plaît.\nNous adorons les chats.\n", encoding="utf-8"
    )
    result = cli("evaluate", f"--model_dir={trained_model_dir}", f"--source_file={sources}",
                 f"--reference_file={references}", f"--output_dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    results = json.load(open(tmp_path / "eval_news.en.json"))
    assert results["num_sentences"] == 2 and results["num_references"] == 3
    assert results["bleu"] == pytest.approx(100.0)
    assert results["perplexity"] > 1.0  # "Nous adorons les chats." was never seen.
    hypotheses = (tmp_path / "eval_news.en.hyp").read_text(encoding="utf-8")
    assert hypotheses == "Nous aimons les chats.\nTais-toi, s'il te plaît.\n"
    assert_one_line_error(
        cli("evaluate", f"--model_dir={trained_model_dir}", f"--source_file={sources}"),
        "--source_file and --reference_file go together",
    )
