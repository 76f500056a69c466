"""Translating lists of sentences in batches: the tiny model translates its pairs exactly."""

import pytest

from tf_seq2seq import config as config_lib
from tf_seq2seq import inference
from tf_seq2seq import loading

from helpers import SOURCES, TARGETS


@pytest.mark.parametrize("beam_size", [1, 3])
def test_tiny_model_memorises_pairs_and_translates_them_exactly(trained_model_dir, beam_size):
    config = config_lib.load(trained_model_dir)
    translator, _ = loading.from_model_dir(config, trained_model_dir)
    nbest = inference.translate_texts(translator.beam_search, SOURCES, beam_size, 1, batch_size=8)
    assert [hypotheses[0][0] for hypotheses in nbest] == TARGETS
    assert all(hypotheses[0][1] < 0 for hypotheses in nbest)


def test_translate_batches_groups_similar_lengths_and_keeps_the_input_order():
    sentences = ["a b c d e", "a", "a b c", "a b", "a b c d", "b", "c d e f g h"]
    batches = []

    def translate_fn(batch):
        batches.append([len(s.split()) for s in batch])
        return [s.upper() for s in batch]

    assert inference.translate_batches(translate_fn, sentences, 3) == [s.upper() for s in sentences]
    assert batches == [[1, 1, 2], [3, 4, 5], [6]]
