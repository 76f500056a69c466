"""Parallel corpora as `tf.data.Dataset`s of `{"source": tf.string, "target": tf.string}`.

A corpus is named by a spec string (flag `--dataset`):

* `sample`: the small English-French Tatoeba sample bundled in the package.
* `files:DIR`: aligned plain-text files `DIR/SPLIT.LANG`, optionally `.gz`.
* `tsv:DIR`: `DIR/SPLIT.tsv`, optionally `.gz`, one `source<TAB>target` pair
  per line.
* `tfds:NAME`: a TensorFlow Datasets translation dataset, e.g.
  `tfds:wmt14_translate/fr-en`.

Local files are checked before training starts (they exist, are valid UTF-8,
have the same number of lines and are not empty), so a bad corpus stops with an
error naming the file and line rather than failing deep inside `tf.data`. A
byte order mark opening a file is removed. `training_pairs` blanks the lines
too long to be a sentence within the length limits before anything tokenizes
them (raw web-crawled corpora hold megabyte lines), so training skips such a
pair as it skips an empty one.
"""

import functools
import gzip
import os
import zlib

import tensorflow as tf
from absl import logging

from tf_seq2seq.errors import Seq2SeqError

SAMPLE_DIR = os.path.join(os.path.dirname(__file__), "resources", "sample")
# Our split names -> TFDS split names.
TFDS_SPLITS = {"train": "train", "val": "validation", "validation": "validation", "test": "test"}
BYTE_ORDER_MARK = "\ufeff"
# A training line longer than this many bytes per token of its length limit is
# skipped unread: words average ~6 bytes with their space in English and French.
BYTES_PER_TOKEN = 64


def load(spec, split, source_lang, target_lang, data_dir=None):
    """Opens one split of a parallel corpus.

    Args:
        spec: corpus spec: `sample`, `files:DIR` or `tfds:NAME`.
        split: split name, e.g. `train`, `val`, `test`.
        source_lang: source language code, e.g. `en`.
        target_lang: target language code, e.g. `fr`.
        data_dir: TFDS data directory (only for `tfds:`), or None for TFDS's default.

    Returns:
        A `tf.data.Dataset` of `{"source": string [], "target": string []}`
        with surrounding whitespace stripped, in corpus order; its
        `cardinality()` is the number of pairs.

    Raises:
        Seq2SeqError: unknown spec, missing or corrupt files, empty corpus.
    """
    if spec == "sample":
        return _load_files(SAMPLE_DIR, split, source_lang, target_lang)
    kind, _, location = spec.partition(":")
    if kind == "files" and location:
        return _load_files(location, split, source_lang, target_lang)
    if kind == "tsv" and location:
        return _load_tsv(location, split)
    if kind == "tfds" and location:
        return _load_tfds(location, split, source_lang, target_lang, data_dir)
    raise Seq2SeqError(
        f"unknown --dataset {spec!r}: expected 'sample', 'files:DIR', 'tsv:DIR' or 'tfds:NAME'"
    )


def load_split(config, split):
    """Opens split `split` of `config`'s corpus: `load` with its dataset, languages and data directory.

    Args:
        config: a `config.Config` (`dataset`, `source_lang`, `target_lang`, `data_dir`).
        split: split name, e.g. `config.train_split`.
    """
    return load(config.dataset, split, config.source_lang, config.target_lang, config.data_dir)


def training_pairs(config):
    """The training split of `config`'s corpus, its over-long lines blanked.

    A line of more than `max_line_bytes(config)` bytes becomes empty before any
    tokenization (which would hold all its words at once), so the pair is
    counted and skipped with the empty ones. The pairs' order and number are
    those of `load_split`.

    Args:
        config: a `config.Config`.

    Returns:
        A `tf.data.Dataset` of `{"source": string [], "target": string []}`.
    """
    limit = max_line_bytes(config)

    def blank_long_lines(batch):
        return {side: tf.where(tf.strings.length(lines) > limit, "", lines) for side, lines in batch.items()}

    return _map_batched(load_split(config, config.train_split), blank_long_lines)


def max_line_bytes(config):
    """The longest training line read, in bytes: `BYTES_PER_TOKEN` per token of the longer length limit."""
    return BYTES_PER_TOKEN * max(config.max_source_length, config.max_target_length)


def read_lines(path, repair=False):
    """Reads a local text file (optionally `.gz`) as a list of stripped lines.

    Args:
        path: the file.
        repair: replace invalid UTF-8 by U+FFFD (with a warning naming the
            line) instead of refusing it.

    Raises:
        Seq2SeqError: a missing, unreadable or corrupt file, or invalid UTF-8
            (naming file and line) unless `repair`.
    """
    try:
        with _open_binary(path) as f:
            return [line.lstrip(BYTE_ORDER_MARK).strip() for line in decode_lines(f, path, repair)]
    except OSError as e:
        raise Seq2SeqError(f"cannot read {path}: {e.strerror or e}") from None


def decode_lines(binary_lines, name, repair=False):
    """Decodes lines of bytes as UTF-8.

    Args:
        binary_lines: an iterable of bytes, e.g. a file opened in binary mode;
            a `.gz` file's corruption is reported as a `Seq2SeqError`.
        name: the input's name for messages (a path, or `<stdin>`).
        repair: replace invalid UTF-8 by U+FFFD with a warning naming the line,
            instead of refusing it.

    Yields:
        The decoded lines (str), line endings kept.

    Raises:
        Seq2SeqError: `NAME:LINE: invalid UTF-8` unless `repair`, or a corrupt `.gz`.
    """
    number = 0
    try:
        for number, line in enumerate(binary_lines, start=1):
            try:
                yield line.decode("utf-8")
            except UnicodeDecodeError as e:
                if not repair:
                    raise Seq2SeqError(f"{name}:{number}: invalid UTF-8 ({e.reason})") from None
                logging.warning("%s:%d: invalid UTF-8 (%s) replaced by U+FFFD", name, number, e.reason)
                yield line.decode("utf-8", errors="replace")
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise Seq2SeqError(
            f"{name}: corrupt gzip file after line {number} ({type(e).__name__}: {e})"
        ) from None


def _open_binary(path):
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def split_path(directory, split, lang):
    """Finds `DIRECTORY/SPLIT.LANG` or `DIRECTORY/SPLIT.LANG.gz`.

    Raises:
        Seq2SeqError: if neither exists.
    """
    plain = os.path.join(directory, f"{split}.{lang}")
    for path in (plain, plain + ".gz"):
        if os.path.isfile(path):
            return path
    raise Seq2SeqError(f"corpus file not found: {plain} (nor {plain}.gz)")


def _count_valid_lines(path, check=None):
    """Counts lines of a text file, checking that every line is valid UTF-8.

    A file is read once per process while its size and modification time
    stay the same (a training run opens its split more than once).

    Args:
        path: a text file, optionally `.gz`.
        check: optional function from a decoded line to an error message, or
            None when the line is fine.

    Raises:
        Seq2SeqError: naming the file and 1-based line of the first invalid
            line, or a corrupt `.gz` file.
    """
    stat = os.stat(path)
    return _count_unchanged_file(path, stat.st_size, stat.st_mtime_ns, check)


@functools.lru_cache(maxsize=64)
def _count_unchanged_file(path, size, mtime_ns, check):
    """`_count_valid_lines` of `path` as of its `size` and `mtime_ns` (the cache key)."""
    del size, mtime_ns  # Only the cache key: a changed file is read again.
    logging.info("Checking %s (UTF-8, line count)", path)
    count = 0
    with _open_binary(path) as f:
        for count, text in enumerate(decode_lines(f, path), start=1):
            problem = check(text) if check else None
            if problem:
                raise Seq2SeqError(f"{path}:{count}: {problem}")
    return count


def _not_one_tab(line):
    tabs = line.count("\t")
    return None if tabs == 1 else f"expected one TAB between source and target, found {tabs}"


def _load_files(directory, split, source_lang, target_lang):
    source_path = split_path(directory, split, source_lang)
    target_path = split_path(directory, split, target_lang)
    source_lines = _count_valid_lines(source_path)
    target_lines = _count_valid_lines(target_path)
    if source_lines != target_lines:
        raise Seq2SeqError(
            f"{source_path} has {source_lines} lines but {target_path} has {target_lines}"
        )
    if source_lines == 0:
        raise Seq2SeqError(f"empty corpus: {source_path} and {target_path} have no lines")
    pairs = tf.data.Dataset.zip({"source": _lines(source_path), "target": _lines(target_path)})
    # The size is known from the check: record it for epoch-based schedules.
    pairs = pairs.apply(tf.data.experimental.assert_cardinality(source_lines))
    return _map_batched(pairs, lambda batch: tf.nest.map_structure(tf.strings.strip, batch))


def _load_tsv(directory, split):
    path = split_path(directory, split, "tsv")
    lines = _count_valid_lines(path, check=_not_one_tab)
    if lines == 0:
        raise Seq2SeqError(f"empty corpus: {path} has no lines")

    def to_pairs(lines):
        columns = tf.strings.split(lines, "\t", maxsplit=1).to_tensor(shape=[None, 2])
        return {"source": tf.strings.strip(columns[:, 0]), "target": tf.strings.strip(columns[:, 1])}

    pairs = _lines(path).apply(tf.data.experimental.assert_cardinality(lines))
    return _map_batched(pairs, to_pairs)


def _lines(path):
    """The lines of a text file (optionally `.gz`), without line endings or a byte order mark opening the file."""
    lines = tf.data.TextLineDataset(path, compression_type="GZIP" if path.endswith(".gz") else "")
    first = lines.take(1).map(lambda line: tf.strings.regex_replace(line, "^" + BYTE_ORDER_MARK, ""))
    return first.concatenate(lines.skip(1))


def _map_batched(dataset, fn, batch_size=1024):
    """`dataset.map(fn)` for a `fn` that works on batches, in corpus order.

    Mapping batches and unbatching costs a fraction of a per-element `map`
    (which dominated reading: ~40 us per pair). A known size is kept.
    """
    mapped = dataset.batch(batch_size).map(
        fn, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    ).unbatch()
    size = int(dataset.cardinality())
    return mapped.apply(tf.data.experimental.assert_cardinality(size)) if size >= 0 else mapped


def _load_tfds(name, split, source_lang, target_lang, data_dir):
    import tensorflow_datasets as tfds  # Slow to import: only for tfds: specs.

    try:
        builder = tfds.builder(name, data_dir=data_dir or None)
    except Exception as e:  # TFDS raises several types for unknown names.
        # The first line: TFDS goes on with the list of every dataset it knows.
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise Seq2SeqError(f"unknown TFDS dataset {name!r}: {reason} (tfds.list_builders() lists them)") from None
    languages = set(builder.info.features.keys())
    missing = {source_lang, target_lang} - languages
    if missing:
        raise Seq2SeqError(
            f"TFDS dataset {name} has languages {sorted(languages)}, not {sorted(missing)}"
        )
    tfds_split = TFDS_SPLITS.get(split, split)
    try:
        builder.download_and_prepare()
        dataset = builder.as_dataset(split=tfds_split, shuffle_files=False)
    except (ValueError, KeyError) as e:
        raise Seq2SeqError(f"TFDS dataset {name} has no split {tfds_split!r}: {e}") from None
    except Exception as e:  # Downloads fail in many ways (offline, quota, checksum).
        raise Seq2SeqError(
            f"could not prepare TFDS dataset {name} (download into --data_dir first "
            f"if this machine is offline): {type(e).__name__}: {e}"
        ) from None
    return _map_batched(
        dataset,
        lambda pairs: {
            "source": tf.strings.strip(pairs[source_lang]),
            "target": tf.strings.strip(pairs[target_lang]),
        },
    )
