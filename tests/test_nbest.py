"""Moses n-best lists: parsing, weights, an added feature, re-ranking, and errors naming the line."""

import pytest

from tf_seq2seq import nbest
from tf_seq2seq.errors import Seq2SeqError

LINES = [
    "0 ||| le chat ||| LM0= -2 TM0= -1 -3 ||| -4.5",
    "0 ||| un chat ||| LM0= -1.5 TM0= -2 -2 ||| -5",
    "1 ||| bonjour ||| LM0= -1 TM0= -0.5 -0.25 ||| -1.25",
]


def test_parse_reads_ids_hypotheses_labelled_features_and_totals():
    entries = nbest.parse(LINES + ["2 ||| x ||| d: 0 -1 ||| 0"], "in.nbest")
    assert [(e.sentence, e.hypothesis, e.total, e.line) for e in entries] == [
        (0, "le chat", -4.5, 1), (0, "un chat", -5.0, 2), (1, "bonjour", -1.25, 3), (2, "x", 0.0, 4)]
    assert entries[0].features == (("LM0", (-2.0,)), ("TM0", (-1.0, -3.0)))
    assert entries[3].features == (("d", (0.0, -1.0)),)  # Older Moses labels end in ':'.


def test_rerank_weights_features_and_the_total_and_sorts_each_sentence():
    entries = nbest.add_feature(nbest.parse(LINES, "in.nbest"), "seq2seq", [-3.0, -0.5, -2.0], "in.nbest")
    reranked = nbest.rerank(entries, nbest.parse_weights("total=0.5,seq2seq=0.5"), "in.nbest")
    assert [(e.hypothesis, e.total) for e in reranked] == [
        ("un chat", (-5 - 0.5) / 2), ("le chat", (-4.5 - 3) / 2), ("bonjour", (-1.25 - 2) / 2)]
    by_features = nbest.rerank(entries, nbest.parse_weights("LM0=1,TM0=0:2"), "in.nbest")
    assert [(e.hypothesis, e.total) for e in by_features] == [
        ("un chat", -1.5 - 4), ("le chat", -2 - 6), ("bonjour", -1 - 0.5)]
    assert nbest.format_entry(reranked[0]) == "0 ||| un chat ||| LM0= -1.5 TM0= -2.0 -2.0 seq2seq= -0.5 ||| -2.75"
    assert nbest.parse([nbest.format_entry(e) for e in reranked], "out")[0].features == reranked[0].features
    assert nbest.best(reranked, 3) == ["un chat", "bonjour", ""]


@pytest.mark.parametrize("lines, message", [
    (["0 ||| a ||| F= 1"], "in.nbest:1: expected 'ID ||| HYPOTHESIS ||| FEATURES ||| TOTAL'"),
    (LINES[:1] + ["x ||| a ||| F= 1 ||| 0"], "in.nbest:2: the id 'x' is not a number"),
    (LINES[:1] + ["0 ||| a ||| F= 1 ||| high"], "in.nbest:2: the total 'high' is not a number"),
    (LINES[:1] + ["0 ||| a ||| 1 F= 1 ||| 0"], "in.nbest:2: feature value '1' without a label"),
    (LINES[:1] + ["0 ||| a ||| F= one ||| 0"], "in.nbest:2: the value of feature F 'one' is not a number"),
    (LINES[:1] + ["0 ||| a ||| F= ||| 0"], "in.nbest:2: feature F has no value"),
    (LINES + ["0 ||| a ||| LM0= 1 ||| 0"], "in.nbest:4: sentence 0 again after other sentences"),
])
def test_malformed_lines_are_named_by_file_and_line(lines, message):
    with pytest.raises(Seq2SeqError, match="^" + message.replace("|", r"\|").replace("(", r"\(")):
        nbest.parse(lines, "in.nbest")


def test_weights_naming_a_missing_feature_or_the_wrong_count_are_refused():
    entries = nbest.parse(LINES, "in.nbest")
    with pytest.raises(Seq2SeqError, match="^in.nbest:1: no feature seq2seq to weight"):
        nbest.rerank(entries, nbest.parse_weights("seq2seq=1"), "in.nbest")
    with pytest.raises(Seq2SeqError, match="^in.nbest:1: feature TM0 has 2 values but --weights gives it 1"):
        nbest.rerank(entries, nbest.parse_weights("TM0=1"), "in.nbest")
    with pytest.raises(Seq2SeqError, match="^in.nbest:1: already has a feature LM0"):
        nbest.add_feature(entries, "LM0", [0.0, 0.0, 0.0], "in.nbest")
    for bad in ("total", "total=high", "=1", ""):
        with pytest.raises(Seq2SeqError, match="^--weights"):
            nbest.parse_weights(bad)
