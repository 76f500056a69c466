"""Corpus sources: the bundled sample, local files (plain and gzip), TFDS (mocked data, real builder)."""

import gzip
import os

import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tf_seq2seq import corpus, training
from tf_seq2seq.errors import Seq2SeqError

from helpers import PAIRS, tiny_config, write_corpus

SHARED_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")


def first(dataset, n):
    return [(p["source"].decode(), p["target"].decode()) for p in dataset.take(n).as_numpy_iterator()]


def test_sample_corpus_is_bundled_with_aligned_held_out_splits():
    train = corpus.load("sample", "train", "en", "fr")
    test = corpus.load("sample", "test", "en", "fr")
    train_pairs = {(p["source"], p["target"]) for p in train.as_numpy_iterator()}
    assert (b"Go.", b"Va !") in train_pairs  # Aligned: line i of .en translates line i of .fr.
    train_sources = {source for source, _ in train_pairs}
    test_sources = {p["source"] for p in test.as_numpy_iterator()}
    assert len(test_sources) > 100 and not train_sources & test_sources


def test_files_are_read_plain_or_gzipped_and_stripped(tmp_path):
    directory = write_corpus(tmp_path, {"train": PAIRS})
    with gzip.open(tmp_path / "val.en.gz", "wt", encoding="utf-8") as f:
        f.write("  Hello there. \n")
    with gzip.open(tmp_path / "val.fr.gz", "wt", encoding="utf-8") as f:
        f.write(" Bonjour.\n")
    assert first(corpus.load(f"files:{directory}", "train", "en", "fr"), 2) == PAIRS[:2]
    assert first(corpus.load(f"files:{directory}", "val", "en", "fr"), 5) == [("Hello there.", "Bonjour.")]
    reverse = corpus.load(f"files:{directory}", "train", "fr", "en")
    assert first(reverse, 1) == [(PAIRS[0][1], PAIRS[0][0])]


def test_missing_split_or_language_is_named(tmp_path):
    directory = write_corpus(tmp_path, {"train": PAIRS})
    with pytest.raises(Seq2SeqError, match=r"test\.en"):
        corpus.load(f"files:{directory}", "test", "en", "fr")
    with pytest.raises(Seq2SeqError, match=r"train\.de"):
        corpus.load(f"files:{directory}", "train", "en", "de")


def corpus_with(tmp_path, pairs, en_extra=b"", fr_extra=b""):
    """`files:` spec of a train split of `pairs` with bytes appended to each side."""
    directory = write_corpus(tmp_path / "corpus", {"train": pairs})
    for lang, extra in (("en", en_extra), ("fr", fr_extra)):
        with open(os.path.join(directory, f"train.{lang}"), "ab") as f:
            f.write(extra)
    return f"files:{directory}"


@pytest.mark.parametrize("spec, message", [
    (lambda tmp_path: "hdfs:/data", "unknown --dataset 'hdfs:/data': expected 'sample', 'files:DIR'"),
    (lambda tmp_path: corpus_with(tmp_path, []), "empty corpus: "),
    (lambda tmp_path: corpus_with(tmp_path, PAIRS, fr_extra="Une ligne de trop.\n".encode()),
     "train.en has 8 lines but "),
    (lambda tmp_path: corpus_with(tmp_path, PAIRS, b"bad \xff byte\n", b"mauvais octet\n"),
     "train.en:9: invalid UTF-8 (invalid start byte)"),
], ids=["unknown kind", "empty", "misaligned", "invalid utf-8"])
def test_unusable_corpora_are_refused_naming_the_problem(tmp_path, spec, message):
    with pytest.raises(Seq2SeqError) as error:
        list(corpus.load(spec(tmp_path), "train", "en", "fr").as_numpy_iterator())
    assert message in str(error.value)


@pytest.mark.skipif(not os.path.isdir(SHARED_DATA), reason="needs ../shared/data beside the repo")
@pytest.mark.parametrize(
    "name, split, size",
    [("multi30k_en_fr", "val", 1014), ("multi30k_en_fr", "test2016", 1000), ("tatoeba_en_fr", "val", 3120)],
)
def test_shared_corpora_load_stripped_with_their_sizes(name, split, size):
    pairs = corpus.load(f"files:{os.path.join(SHARED_DATA, name)}", split, "en", "fr")
    assert int(pairs.cardinality()) == size
    targets = [p["target"] for p in pairs.as_numpy_iterator()]
    assert len(targets) == size
    assert not any(t != t.strip() for t in targets)  # Multi30k has leading spaces upstream.


def test_tfds_source_reads_the_real_wmt14_builder_with_mock_data():
    with tfds.testing.mock_data(num_examples=6):
        dataset = corpus.load("tfds:wmt14_translate/fr-en", "val", "en", "fr")
        pairs = list(dataset.as_numpy_iterator())
    assert len(pairs) == 6
    assert int(dataset.cardinality()) == 6  # Epoch-based schedules need the size.
    assert all(set(p) == {"source", "target"} and isinstance(p["source"], bytes) for p in pairs)


def test_tfds_source_checks_languages():
    with tfds.testing.mock_data(num_examples=2):
        with pytest.raises(Seq2SeqError, match=r"not \['de'\]"):
            corpus.load("tfds:wmt14_translate/fr-en", "train", "en", "de")
    with pytest.raises(Seq2SeqError, match="unknown TFDS dataset") as error:
        corpus.load("tfds:no_such_dataset_here", "train", "en", "fr")
    # The first line of TFDS's message, without its list of every dataset.
    assert "\n" not in str(error.value) and len(str(error.value)) < 300, str(error.value)[:1000]


def test_training_runs_on_a_tfds_corpus(tmp_path):
    config = tiny_config("unused", dataset="tfds:wmt14_translate/fr-en", train_steps=2,
                         max_source_length=200, max_target_length=200)
    with tfds.testing.mock_data(num_examples=16):
        result = training.train(config, str(tmp_path / "model"))
    assert result["step"] == 2
    # Mock data comes from a Python generator, whose position cannot be saved:
    # the checkpoint is written without it.
    assert tf.train.latest_checkpoint(str(tmp_path / "model")).endswith("ckpt-2")


def test_tsv_corpus_reads_source_tab_target(tmp_path):
    (tmp_path / "train.tsv").write_text(
        "".join(f" {en}\t{fr} \n" for en, fr in PAIRS) + "Empty target.\t\n", encoding="utf-8"
    )
    pairs = first(corpus.load(f"tsv:{tmp_path}", "train", "en", "fr"), 100)
    assert pairs == PAIRS + [("Empty target.", "")]
    assert int(corpus.load(f"tsv:{tmp_path}", "train", "en", "fr").cardinality()) == 9


def test_tsv_line_without_exactly_one_tab_is_named(tmp_path):
    (tmp_path / "train.tsv").write_text("a\tb\nno tab here\n", encoding="utf-8")
    with pytest.raises(Seq2SeqError, match=r"train\.tsv:2: expected one TAB .* found 0"):
        corpus.load(f"tsv:{tmp_path}", "train", "en", "fr")


def test_a_byte_order_mark_opening_a_file_is_not_read_as_text(tmp_path):
    directory = write_corpus(tmp_path, {"train": PAIRS})
    for name in ("train.en", "train.fr"):
        path = tmp_path / name
        path.write_text("\ufeff" + path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "val.tsv").write_text("\ufeffHi.\tSalut.\n", encoding="utf-8")
    assert first(corpus.load(f"files:{directory}", "train", "en", "fr"), 1) == PAIRS[:1]
    assert first(corpus.load(f"tsv:{directory}", "val", "en", "fr"), 1) == [("Hi.", "Salut.")]
    assert corpus.read_lines(str(tmp_path / "train.en"))[0] == PAIRS[0][0]


def test_training_lines_too_long_for_the_limits_are_blanked_before_tokenization(tmp_path):
    config = tiny_config(str(tmp_path), max_source_length=10, max_target_length=20)
    limit = corpus.max_line_bytes(config)
    assert limit == 20 * corpus.BYTES_PER_TOKEN
    pairs = [("a" * limit, "b"), ("c", "d" * (limit + 1)), ("é" * (limit // 2 + 1), "e")] + PAIRS
    write_corpus(tmp_path, {"train": pairs})
    read = first(corpus.training_pairs(config), len(pairs))
    assert read == [("a" * limit, "b"), ("c", ""), ("", "e")] + PAIRS  # Bytes, not characters.
    assert int(corpus.training_pairs(config).cardinality()) == len(pairs)


def test_a_file_is_checked_once_per_process_until_it_changes(tmp_path, caplog):
    directory = write_corpus(tmp_path, {"train": PAIRS})
    with caplog.at_level("INFO", logger="absl"):
        for _ in range(3):
            corpus.load(f"files:{directory}", "train", "en", "fr")
    assert sum(message.startswith("Checking ") for message in caplog.messages) == 2  # .en and .fr.
    with open(tmp_path / "train.en", "a", encoding="utf-8") as f:
        f.write("One more.\n")
    caplog.clear()
    with caplog.at_level("INFO", logger="absl"), pytest.raises(Seq2SeqError, match="has 9 lines but"):
        corpus.load(f"files:{directory}", "train", "en", "fr")
    assert [m for m in caplog.messages if m.startswith("Checking ")] == [f"Checking {tmp_path}/train.en (UTF-8, line count)"]
