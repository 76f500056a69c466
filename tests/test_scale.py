"""A generated corpus of hundreds of thousands of pairs streamed through vocabulary building and the pipeline."""

import collections

import pytest

from tf_seq2seq import config as config_lib
from tf_seq2seq import corpus, pipeline, tokenizer, vocab, word_counts

LONG = " ".join(["z"] * 60)  # Longer than MAX_LENGTH words.
MAX_LENGTH = 50


def sentence_pair(i):
    """Pair `i`: words of growing variety (`d{i}` is new in every pair); every 1000th
    target is too long and every 5000th is empty, so both get dropped."""
    source = f"a{i % 7} b{i % 101} c{i % 1009} d{i}."
    target = f"e{i % 11} f{i % 103} g{i % 1013} h{i}."
    if i % 1000 == 999:
        target += " " + LONG
    if i % 5000 == 0:
        target = ""
    return source, target


def expected_counts(pairs, side):
    """Token counts of one side, by construction: `▁` + each word, the final `.` split off."""
    counts = collections.Counter()
    for pair in pairs:
        words = pair[side].replace(".", " .").split()
        counts.update(word if word == "." else "▁" + word for word in words)
    return counts


@pytest.mark.parametrize("size", [20_000, pytest.param(300_000, marks=pytest.mark.slow)])
def test_a_large_generated_corpus_streams_through_vocabulary_building_and_the_pipeline(tmp_path, size):
    pairs = [sentence_pair(i) for i in range(size)]
    for lang, side in (("en", 0), ("fr", 1)):
        (tmp_path / f"train.{lang}").write_text("".join(p[side] + "\n" for p in pairs), encoding="utf-8")
    dropped = sum(1 for i in range(size) if i % 1000 == 999 or i % 5000 == 0)

    train = corpus.load(f"files:{tmp_path}", "train", "en", "fr")
    counts = word_counts.count(train, tokenizer.count_words, MAX_LENGTH, MAX_LENGTH, batch_size=4096)
    assert (counts.pairs, counts.dropped, counts.max_undercount) == (size, dropped, 0)
    assert len(counts.source) == len(expected_counts(pairs, 0))
    source_tokens, target_tokens = vocab.build(counts, 600, 1200, "word")
    assert source_tokens == vocab.most_frequent(expected_counts(pairs, 0), 600)
    assert target_tokens == vocab.most_frequent(expected_counts(pairs, 1), 1200)

    paths = [str(tmp_path / "source.txt"), str(tmp_path / "target.txt")]
    for path, tokens in zip(paths, (source_tokens, target_tokens)):
        vocab.write(path, tokens)
    config = config_lib.Config(dataset=f"files:{tmp_path}", batch_size=256, shuffle_buffer=1000,
                               max_source_length=MAX_LENGTH, max_target_length=MAX_LENGTH)
    batches = pipeline.training_batches(
        train, tokenizer.WordTokenizer(paths[0]), tokenizer.WordTokenizer(paths[1]), config
    )
    # The stream is endless: read one pass (rows numbered 0 by `shuffle_passes`).
    indices, labels = set(), 0
    for features, targets in batches.as_numpy_iterator():
        first_pass = features["pass"] == 0
        indices.update(features["index"][first_pass].tolist())
        labels += int((targets[first_pass] != 0).sum())
        if features["pass"].min() >= 2:  # Every row of the first pass has come out.
            break
    kept = size - dropped
    assert len(indices) == kept  # Each kept pair once.
    assert labels == 6 * kept  # Five words and <eos> per kept target.
