"""validation: the evaluation sentences, periodic scores, the best checkpoint and early stopping."""

import json
import os

import pytest
import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import evaluation, tokenizer, validation
from tf_seq2seq import model as model_lib

from helpers import PAIRS, teacher_forced_perplexity


def test_sample_evenly_takes_one_seeded_index_from_each_equal_stratum():
    chosen = validation.sample_evenly(1000, 10)
    assert [i // 100 for i in chosen] == list(range(10))
    assert validation.sample_evenly(1000, 10) == chosen
    assert validation.sample_evenly(1000, 10, seed=1) != chosen
    uneven = validation.sample_evenly(10, 4)  # Strata [0, 2), [2, 5), [5, 7), [7, 10).
    assert [0 <= uneven[0] < 2, 2 <= uneven[1] < 5, 5 <= uneven[2] < 7, 7 <= uneven[3] < 10] == [True] * 4
    assert validation.sample_evenly(5, 8) == [0, 1, 2, 3, 4]


def test_evaluation_sample_of_the_length_sorted_bundled_val_split_spans_its_lengths():
    config = config_lib.Config()  # The bundled sample: its val split is sorted by length in characters.
    sources, _ = evaluation.read_references(config, config.eval_split)
    lengths = [len(source) for source in sources]
    assert lengths == sorted(lengths) and config.eval_sentences < len(sources)
    first = lengths[: config.eval_sentences]
    sampled = [lengths[i] for i in validation.sample_evenly(len(sources), config.eval_sentences)]
    assert max(first) < max(sampled)
    assert sum(first) / len(first) < 0.9 * sum(lengths) / len(lengths)  # Why the first ones will not do.
    assert sum(sampled) / len(sampled) == pytest.approx(sum(lengths) / len(lengths), rel=0.02)


def test_validation_scores_keeps_the_best_checkpoint_and_stops_without_progress(trained_model_dir, tmp_path):
    config = config_lib.load(trained_model_dir).replace(eval_sentences=4, eval_beam_size=2)
    seq2seq = model_lib.for_model_dir(config, trained_model_dir)
    seq2seq.restore(trained_model_dir)
    source, target = tokenizer.from_model_dir(trained_model_dir, config.tokenizer)
    model_dir = str(tmp_path / "run")
    check = validation.Validation(config, model_dir, seq2seq, source, target)
    assert check.best_bleu is None
    first = check.run(step=10)
    chosen = [PAIRS[i] for i in validation.sample_evenly(len(PAIRS), 4)]
    assert first["num_sentences"] == 4 and first["beam_size"] == 2 and first["step"] == 10
    assert first["bleu"] == pytest.approx(100.0)  # The tiny model memorised the pairs.
    assert first["perplexity"] == pytest.approx(teacher_forced_perplexity(trained_model_dir, chosen), rel=1e-5)
    assert tf.train.latest_checkpoint(os.path.join(model_dir, "best")).endswith("ckpt-10")
    assert not check.should_stop(1)
    again = check.run(step=20)  # The same weights: no better BLEU.
    assert again["bleu"] == first["bleu"] and check.should_stop(1) and not check.should_stop(2)
    assert not check.should_stop(0)  # Patience 0: never stop early.
    with open(os.path.join(model_dir, "best", "eval.json"), encoding="utf-8") as f:
        assert json.load(f) == first
    assert tf.train.latest_checkpoint(os.path.join(model_dir, "best")).endswith("ckpt-10")
    resumed = validation.Validation(config, model_dir, seq2seq, source, target)
    assert resumed.best_bleu == first["bleu"]  # A resumed run remembers the best so far.
