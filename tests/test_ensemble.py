"""Ensembles: several model directories sharing vocabularies decode as one model."""

import pytest
import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import evaluation, training
from tf_seq2seq import loading

from helpers import REFERENCES, SOURCES, run_python, tiny_config


@pytest.fixture(scope="module")
def second_model_dir(tiny_corpus, tmp_path_factory):
    """A second, less trained tiny model on the same corpus (so the same vocabularies)."""
    model_dir = str(tmp_path_factory.mktemp("second_model"))
    training.train(tiny_config(tiny_corpus, seed=7, train_steps=150), model_dir)
    return model_dir


def nbest(model_dirs, beam_size=3):
    config = config_lib.load(model_dirs[0])
    translator, _ = loading.from_model_dirs(config, model_dirs)
    outputs = translator.beam_search(tf.constant(SOURCES), tf.constant(beam_size), tf.constant(beam_size))
    return [[t.decode() for t in row] for row in outputs["translations"].numpy()], outputs["scores"].numpy()


def bleu(translations):
    return evaluation.score([row[0] for row in translations], REFERENCES)["bleu"]


def test_an_ensemble_of_one_model_or_of_copies_equals_the_single_model(trained_model_dir):
    single, single_scores = nbest([trained_model_dir])
    for members in ([trained_model_dir], [trained_model_dir, trained_model_dir]):
        translations, scores = nbest(members)
        assert translations == single
        assert scores == pytest.approx(single_scores, abs=1e-4)


def test_an_ensemble_of_two_differs_and_scores_at_least_as_well(trained_model_dir, second_model_dir):
    first, first_scores = nbest([trained_model_dir])
    second, second_scores = nbest([second_model_dir])
    both, both_scores = nbest([trained_model_dir, second_model_dir])
    assert both_scores != pytest.approx(first_scores, abs=1e-3)
    assert both_scores != pytest.approx(second_scores, abs=1e-3)
    assert bleu(both) >= min(bleu(first), bleu(second))
    assert bleu(both) >= (bleu(first) + bleu(second)) / 2


# Slow: the in-process ensemble tests above cover the model; test_cli covers export and translate.
@pytest.mark.slow
def test_export_and_translate_an_ensemble_from_the_command_line(
    trained_model_dir, second_model_dir, tmp_path
):
    members = f"{trained_model_dir},{second_model_dir}"
    export = run_python(["-m", "tf_seq2seq.export", f"--model_dir={members}",
                         f"--export_dir={tmp_path / 'ensemble'}"])
    assert export.returncode == 0, export.stderr[-3000:]
    path = export.stdout.strip().splitlines()[-1]
    translations = {}
    for flag in (f"--saved_model={path}", f"--model_dir={members}"):
        result = run_python(["-m", "tf_seq2seq.translate", flag, "--num_hypotheses=3"],
                            input="".join(s + "\n" for s in SOURCES))
        assert result.returncode == 0, result.stderr[-3000:]
        translations[flag] = [line.split("\t") for line in result.stdout.splitlines()]
    from_saved_model, from_model_dirs = translations.values()
    assert [row[3] for row in from_saved_model] == [row[3] for row in from_model_dirs]
    expected, _ = nbest([trained_model_dir, second_model_dir])
    assert [row[3] for row in from_saved_model] == [t for row in expected for t in row]
