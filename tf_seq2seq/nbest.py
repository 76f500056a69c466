"""Moses n-best lists: reading them, adding a feature, re-ranking by weighted features, writing them.

A line is `ID ||| HYPOTHESIS ||| FEATURES ||| TOTAL`: ID is the 0-based index of
the source sentence, FEATURES labelled values (`LM0= -12.5 TM0= -3.1 -4.0 ...`:
a label ending in `=`, or in `:` as older Moses wrote, then one or more
numbers) and TOTAL the system's own score. A sentence's lines are contiguous.
Re-ranking scores each hypothesis `sum(weight x value)` over the weighted
features, where `total` names the list's own total, and sorts each sentence's
hypotheses by it, best first (ties keep the list's order).

Examples:

>>> entries = parse(["0 ||| le chat ||| LM0= -2 TM0= -1 -3 ||| -4.5"], "in.nbest")
>>> entries = add_feature(entries, "seq2seq", [-1.5], "in.nbest")
>>> rerank(entries, parse_weights("total=0.5,seq2seq=0.5"), "in.nbest")[0].total
-3.0
"""

import collections
import re

from tf_seq2seq.errors import Seq2SeqError

SEPARATOR = " ||| "
# The n-best list's own score, as a weight name.
TOTAL = "total"

Entry = collections.namedtuple("Entry", ["sentence", "hypothesis", "features", "total", "line"])
Entry.__doc__ = """One hypothesis of an n-best list.

Attributes:
    sentence: int, the 0-based index of its source sentence.
    hypothesis: str, the translation.
    features: tuple of `(label, values)`, values a tuple of float, in the list's order.
    total: float, its score.
    line: int, its line number in the file read (from 1), for messages.
"""

_LABEL = re.compile(r"\S+[=:]")


def parse(lines, path):
    """Reads n-best lines.

    Args:
        lines: iterable of str, without newlines.
        path: the file they come from, for messages.

    Returns:
        A list of `Entry`, in the lines' order.

    Raises:
        Seq2SeqError: naming the file and line of a malformed line, or of a
            sentence whose lines are not contiguous.
    """
    entries, seen = [], set()
    for number, text in enumerate(lines, start=1):
        fields = text.split(SEPARATOR.strip())
        where = f"{path}:{number}"
        if len(fields) != 4:
            raise Seq2SeqError(
                f"{where}: expected 'ID ||| HYPOTHESIS ||| FEATURES ||| TOTAL', got {text[:80]!r}"
            )
        sentence = _number(fields[0].strip(), int, where, "id")
        total = _number(fields[3].strip(), float, where, "total")
        if sentence < 0:
            raise Seq2SeqError(f"{where}: negative sentence id {sentence}")
        if entries and sentence != entries[-1].sentence:
            if sentence in seen:
                raise Seq2SeqError(f"{where}: sentence {sentence} again after other sentences "
                                   "(its lines must be contiguous)")
            seen.add(entries[-1].sentence)
        entries.append(Entry(sentence, fields[1].strip(), _features(fields[2], where), total, number))
    return entries


def _number(text, kind, where, what):
    """`kind(text)`, or a `Seq2SeqError` naming the line and the field."""
    try:
        return kind(text)
    except ValueError:
        raise Seq2SeqError(f"{where}: the {what} {text[:40]!r} is not a number") from None


def _features(text, where):
    """The `(label, values)` pairs of a FEATURES field."""
    features = []
    for token in text.split():
        if _LABEL.fullmatch(token) and not _is_number(token[:-1]):
            features.append((token[:-1], []))
        elif not features:
            raise Seq2SeqError(
                f"{where}: feature value {token!r} without a label (expected 'NAME= VALUE ...')"
            )
        else:
            features[-1][1].append(_number(token, float, where, f"value of feature {features[-1][0]}"))
    for label, values in features:
        if not values:
            raise Seq2SeqError(f"{where}: feature {label} has no value")
    return tuple((label, tuple(values)) for label, values in features)


def _is_number(text):
    """Whether `text` reads as a float (a negative number ending in `:` is no label)."""
    try:
        float(text)
        return True
    except ValueError:
        return False


def parse_weights(text):
    """Weights from `NAME=W,NAME=W1:W2,...` (one weight per value of a feature; `total`: the list's score).

    Returns:
        dict of name -> tuple of float.

    Raises:
        Seq2SeqError: naming the bad item.
    """
    weights = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, equals, values = item.partition("=")
        try:
            weights[name.strip()] = tuple(float(v) for v in values.split(":"))
        except ValueError:
            equals = ""
        if not equals or not name.strip():
            raise Seq2SeqError(f"--weights: {item!r} is not NAME=WEIGHT (e.g. total=0.5,seq2seq=0.5)")
    if not weights:
        raise Seq2SeqError("--weights is empty (e.g. total=0.5,seq2seq=0.5)")
    return weights


def add_feature(entries, label, values, path):
    """The entries with feature `label` (one value per entry) appended.

    Raises:
        Seq2SeqError: naming the file and line of an entry that already has
            that feature (choose another label).
    """
    added = []
    for entry, value in zip(entries, values, strict=True):
        if any(name == label for name, _ in entry.features):
            raise Seq2SeqError(f"{path}:{entry.line}: already has a feature {label} (give ours another "
                               "--feature_name)")
        added.append(entry._replace(features=entry.features + ((label, (float(value),)),)))
    return added


def rerank(entries, weights, path):
    """Each entry's total replaced by the weighted sum of its features; each sentence's entries sorted by it.

    Args:
        entries: list of `Entry`, a sentence's contiguous.
        weights: `parse_weights`' dict.
        path: the n-best file, for messages.

    Returns:
        A list of `Entry`: sentences in the input order, each's best first.

    Raises:
        Seq2SeqError: naming the file and line of an entry lacking a weighted
            feature, or whose feature has another number of values than weights.
    """
    rescored = [entry._replace(total=_weighted(entry, weights, path)) for entry in entries]
    groups = []
    for entry in rescored:
        if groups and groups[-1][0].sentence == entry.sentence:
            groups[-1].append(entry)
        else:
            groups.append([entry])
    return [entry for group in groups for entry in sorted(group, key=lambda e: -e.total)]


def _weighted(entry, weights, path):
    """`sum(weight x value)` of one entry."""
    features = {TOTAL: (entry.total,), **dict(entry.features)}
    total = 0.0
    for name, name_weights in weights.items():
        if name not in features:
            raise Seq2SeqError(f"{path}:{entry.line}: no feature {name} to weight (it has "
                               f"{', '.join(features)})")
        if len(features[name]) != len(name_weights):
            raise Seq2SeqError(f"{path}:{entry.line}: feature {name} has {len(features[name])} values but "
                               f"--weights gives it {len(name_weights)}")
        total += sum(w * v for w, v in zip(name_weights, features[name]))
    return total


def format_entry(entry):
    """The n-best line of an entry, without newline."""
    features = " ".join(f"{label}= {' '.join(map(repr, values))}" for label, values in entry.features)
    return SEPARATOR.join([str(entry.sentence), entry.hypothesis, features, repr(entry.total)])


def best(entries, num_sentences):
    """The first hypothesis of each sentence `0 .. num_sentences - 1` ("" for one without any)."""
    first = {}
    for entry in entries:
        first.setdefault(entry.sentence, entry.hypothesis)
    return [first.get(i, "") for i in range(num_sentences)]
