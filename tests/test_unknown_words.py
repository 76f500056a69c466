"""--replace_unknown_target: each <unk> becomes the source word the model attended to most."""

import json

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import analysis, serving, training, unknown_words
from tf_seq2seq import config as config_lib
from tf_seq2seq import loading
from tf_seq2seq.errors import Seq2SeqError

from helpers import SOURCES, last_json, run_client, run_python, tiny_config


def texts(strings):
    """A string tensor [N, T] as nested lists of str."""
    return [[s.decode() for s in row] for row in strings.numpy()]


def test_attended_words_maps_reversed_truncated_positions_back_to_the_words():
    # Sentence 0: five words, the encoder read the first three reversed (c b a); sentence 1: one word.
    words = tf.ragged.constant([["▁a", "▁b", "▁c", "▁d", "▁e"], ["▁x"]])
    word_of_token = tf.ragged.constant([[0, 1, 2, 3, 4], [0]], dtype=tf.int32)
    peaks = [[0, 2, 1], [0, 0, 0]]  # The encoder position each output position attends to most.
    alignments = tf.one_hot(peaks, 4) * 0.7 + 0.05
    attended = unknown_words.attended_words(alignments, words, word_of_token, tf.constant([3, 1]), reverse=True)
    assert texts(attended) == [["▁c", "▁a", "▁b"], ["▁x"] * 3]
    forward = unknown_words.attended_words(alignments, words, word_of_token, tf.constant([3, 1]), reverse=False)
    assert texts(forward)[0] == ["▁a", "▁c", "▁b"]
    # Pieces of one word (word_of_token repeats) map to that word; no words at all give "".
    pieces = unknown_words.attended_words(tf.one_hot([[2]], 4), tf.ragged.constant([["▁ab", "▁c"]]),
                                          tf.ragged.constant([[0, 0, 1]], dtype=tf.int32), tf.constant([3]), False)
    assert texts(pieces) == [["▁c"]]
    empty = unknown_words.attended_words(tf.ones([1, 2, 1]), tf.ragged.constant([[]], dtype=tf.string),
                                         tf.ragged.constant([[]], dtype=tf.int32), tf.constant([0]), True)
    assert texts(empty) == [["", ""]]


def test_wordpiece_source_words_name_the_word_of_each_piece(french_wordpiece):
    tokenizer, tokens, _ = french_wordpiece
    sentences = tf.constant(["Les chats noirs dorment.", "", "anticonstitutionnellement"])
    words, word_of_token = tokenizer.source_words(sentences)
    ids = tokenizer.tokenize(sentences)
    assert word_of_token.row_lengths().numpy().tolist() == ids.row_lengths().numpy().tolist()
    for sentence_words, indices, sentence_ids in zip(words.to_list(), word_of_token.to_list(), ids.to_list()):
        for w, word in enumerate(sentence_words):
            pieces = [tokens[i].removeprefix("##") for i, at in zip(sentence_ids, indices) if at == w]
            assert "".join(pieces).removeprefix("▁") == word.decode().removeprefix("▁")
    assert max(word_of_token.row_lengths().numpy()) > max(words.row_lengths().numpy())  # Words cut into pieces.


@pytest.fixture(scope="module")
def small_vocabulary_model_dir(tiny_corpus, tmp_path_factory):
    """A tiny Luong-attention model whose target vocabulary (8 words) leaves most words <unk>."""
    model_dir = str(tmp_path_factory.mktemp("unk_model"))
    training.train(tiny_config(tiny_corpus, attention="luong", target_vocab_size=12, train_steps=150), model_dir)
    return model_dir


def joined(row, replace):
    """The text of `analysis.attention_alignments`' row, each <unk> (with `replace`) being the
    source word of its largest attention weight."""
    tokens = []
    for position, token in enumerate(row["output"]):
        if token == "<unk>":
            token = "▁" + (row["source"][int(np.argmax(row["weights"][position]))].removeprefix("▁")
                           if replace else token)
        tokens.append(token)
    return "".join(t for t in tokens if t != "<eos>").replace("▁", " ").strip()


def test_each_unk_becomes_its_most_attended_source_word(small_vocabulary_model_dir):
    config = config_lib.load(small_vocabulary_model_dir)
    plain, _ = loading.from_model_dir(config, small_vocabulary_model_dir)
    replacing, _ = loading.from_model_dirs(config.replace(replace_unknown_target=True),
                                                  [small_vocabulary_model_dir])
    beam = tf.constant(config.beam_size)
    before = plain.beam_search(tf.constant(SOURCES), beam, tf.constant(1))["translations"].numpy()[:, 0]
    after = replacing.beam_search(tf.constant(SOURCES), beam, tf.constant(1))["translations"].numpy()[:, 0]
    assert sum(t.decode().count("<unk>") for t in before) >= 5
    assert not any(b"<unk>" in t for t in after)
    rows = analysis.attention_alignments(plain, SOURCES, config)
    assert [t.decode() for t in before] == [joined(row, replace=False) for row in rows]
    assert [t.decode() for t in after] == [joined(row, replace=True) for row in rows]


def test_replacement_needs_attention(trained_model_dir):
    config = config_lib.load(trained_model_dir).replace(replace_unknown_target=True)
    with pytest.raises(Seq2SeqError, match="--replace_unknown_target needs models trained with --attention"):
        loading.from_model_dir(config, trained_model_dir)


def test_an_export_with_replacement_replaces_in_its_graph(small_vocabulary_model_dir, tmp_path):
    config = config_lib.load(small_vocabulary_model_dir).replace(replace_unknown_target=True, jit_compile=True)
    path = serving.export_model_dir(config, small_vocabulary_model_dir, str(tmp_path / "unk"))
    # Translated in a fresh process through the TF1 session API by tensor names, as TF Serving does.
    loaded = last_json(run_client("tf1_session", path, json.dumps(SOURCES + [""])))
    translator, _ = loading.from_model_dir(config, small_vocabulary_model_dir)
    expected = translator.serve(tf.constant(SOURCES + [""]))["translations"].numpy().tolist()
    assert loaded["translations"] == [t.decode() for t in expected]
    xla = serving.load(path).signatures["beam_search_xla"](
        sentences=tf.constant(SOURCES), beam_size=tf.constant(3), num_hypotheses=tf.constant(1))
    assert xla["translations"].numpy()[:, 0].tolist() == expected[:-1]
    # translate --saved_model refuses a setting the graph does not have.
    refused = run_python(["-m", "tf_seq2seq.translate", f"--saved_model={path}", "--replace_unknown_target=false"],
                         input="Go.\n")
    assert refused.returncode == 2 and "differs from the export's" in refused.stderr.splitlines()[-1]
