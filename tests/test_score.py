"""The score command: one score per line as the model scores, and a Moses n-best list re-ranked."""

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import nbest
from tf_seq2seq import loading

from helpers import SOURCES, TARGETS, cli


def test_score_command_prints_one_score_per_line_as_the_model_scores(trained_model_dir, tmp_path):
    source, target = tmp_path / "s.en", tmp_path / "t.fr"
    source.write_text("".join(s + "\n" for s in SOURCES), encoding="utf-8")
    target.write_text("".join(t + "\n" for t in TARGETS[1:] + TARGETS[:1]), encoding="utf-8")
    result = cli("score", f"--model_dir={trained_model_dir}", f"--source={source}", f"--target={target}",
                 "--translate_batch_size=3")
    assert result.returncode == 0, result.stderr[-3000:]
    translator, _ = loading.from_model_dir(config_lib.load(trained_model_dir), trained_model_dir)
    expected = translator.score_signature(tf.constant(SOURCES), tf.constant(TARGETS[1:] + TARGETS[:1]))
    printed = [float(line) for line in result.stdout.splitlines()]
    np.testing.assert_allclose(printed, expected["normalized_scores"].numpy(), atol=2e-6)


def test_score_command_reranks_a_moses_nbest_list_with_its_feature(exported_model, trained_model_dir, tmp_path):
    translator, _ = loading.from_model_dir(config_lib.load(trained_model_dir), trained_model_dir)
    source = tmp_path / "s.en"
    source.write_text("".join(s + "\n" for s in SOURCES[:3]), encoding="utf-8")
    # Per sentence: another pair's target ranked first by the list, the reference second.
    lines = [f"{i} ||| {hypothesis} ||| LM0= {-1 - rank} ||| {-1.0 - rank}"
             for i in range(3) for rank, hypothesis in enumerate([TARGETS[i + 1], TARGETS[i]])]
    (tmp_path / "in.nbest").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    result = cli("score", f"--saved_model={exported_model}", f"--source={source}",
                 f"--nbest={tmp_path / 'in.nbest'}", f"--nbest_output={tmp_path / 'out.nbest'}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == TARGETS[:3]  # The model knows the references.
    out = nbest.parse((tmp_path / "out.nbest").read_text(encoding="utf-8").splitlines(), "out.nbest")
    ours = translator.score_signature(
        tf.constant([SOURCES[i] for i in range(3) for _ in range(2)]),
        tf.constant([out_entry.hypothesis for out_entry in out]),
    )["log_probs"].numpy()
    for entry, score in zip(out, ours):
        assert entry.features[0][0] == "LM0" and entry.features[1][0] == "seq2seq"
        assert entry.features[1][1][0] == pytest.approx(score, abs=1e-4)
        line_total = -1.0 - (TARGETS.index(entry.hypothesis) == entry.sentence)  # The reference ranked second.
        assert entry.total == pytest.approx(0.5 * line_total + 0.5 * entry.features[1][1][0], abs=1e-9)


def test_score_command_names_the_bad_nbest_line(trained_model_dir, tmp_path):
    (tmp_path / "s.en").write_text("Go.\n", encoding="utf-8")
    (tmp_path / "in.nbest").write_text("0 ||| Va ! ||| LM0= -1 ||| -1\n0 ||| Va ||| -1\n", encoding="utf-8")
    result = cli("score", f"--model_dir={trained_model_dir}", f"--source={tmp_path / 's.en'}",
                 f"--nbest={tmp_path / 'in.nbest'}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {tmp_path / 'in.nbest'}:2: expected")
