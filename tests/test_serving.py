"""The exported SavedModel: versions, fresh-process loading, TF1 sessions, portable ops."""

import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorflow.core.protobuf import saved_model_pb2

from tf_seq2seq import config as config_lib
from tf_seq2seq import serving, text_ops
from tf_seq2seq import loading

from helpers import (
    PAIRS, SENTENCES, TF_TEXT_2_12_OPS, assert_same_as_in_process, assert_survives_hostile_inputs,
    assert_xla_decodes_like_beam_search, client_on_sentences, in_process, non_core_ops, replay_warmup,
    run_client, tiny_config,
)


@pytest.fixture(scope="module")
def exported_wordpiece(tiny_corpus, tmp_path_factory):
    """`(version_path, translator)` of a tiny model with a WordPiece vocabulary."""
    from tf_seq2seq import training

    model_dir = str(tmp_path_factory.mktemp("wordpiece_model"))
    config = tiny_config(tiny_corpus, tokenizer="wordpiece", train_steps=30)
    training.train(config, model_dir)
    path = serving.export_model_dir(config, model_dir, str(tmp_path_factory.mktemp("wp") / "tiny"))
    translator, _ = loading.from_model_dir(config, model_dir)
    return path, translator


@pytest.fixture(scope="module")
def exported_shortlist(trained_model_dir, tmp_path_factory):
    """`(version_path, translator)` of the tiny model exported with a vocabulary shortlist."""
    model_dir = str(tmp_path_factory.mktemp("shortlist") / "model")
    shutil.copytree(trained_model_dir, model_dir)  # The shortlist's counts are saved in it.
    config = config_lib.load(model_dir).replace(shortlist=True, shortlist_words=2, shortlist_frequent=3)
    path = serving.export_model_dir(config, model_dir, str(tmp_path_factory.mktemp("sl") / "tiny"))
    translator, _ = loading.from_model_dir(config, model_dir)
    return path, translator


def test_export_writes_the_next_integer_version(trained_model_dir, tmp_path):
    config = config_lib.load(trained_model_dir)
    export_dir = str(tmp_path / "tiny")
    os.makedirs(os.path.join(export_dir, "7"))
    path = serving.export_model_dir(config, trained_model_dir, export_dir)
    assert path == os.path.join(export_dir, "8")
    assert sorted(os.listdir(export_dir)) == ["7", "8"]
    assert tf.saved_model.contains_saved_model(path)
    assert serving.saved_config(path) == config


def test_fresh_process_load_translates_like_the_in_process_model(exported):
    path, translator = exported
    loaded = client_on_sentences("tf2_signatures", path)
    assert_same_as_in_process(loaded, translator)
    assert [row[0] for row in loaded["nbest"]][:5] == [fr for _, fr in PAIRS[:5]]
    assert all(len(row) == 2 for row in loaded["nbest"])
    assert loaded["truncated"] == [False] * len(SENTENCES)
    assert loaded["vectors_shape"] == [len(SENTENCES), 2 * 2 * 48]  # (h, c) x layers x units.


@pytest.mark.parametrize("export", ["exported", "exported_wordpiece", "exported_shortlist"])
def test_tf1_session_load_by_tensor_names_as_tf_serving_does(export, request):
    path, translator = request.getfixturevalue(export)
    assert_same_as_in_process(client_on_sentences("tf1_session", path), translator)


@pytest.mark.parametrize("export", ["exported", "exported_wordpiece", "exported_shortlist"])
def test_graphs_use_only_core_ops_and_tf_text_2_12_ops(export, request):
    path, _ = request.getfixturevalue(export)
    non_core = non_core_ops(path)
    assert non_core and non_core <= TF_TEXT_2_12_OPS
    # `serving.load` registers them without importing all of tensorflow-text.
    assert non_core <= {op for ops in text_ops.LIBRARIES.values() for op in ops}


@pytest.mark.parametrize("export, libraries", [
    ("exported", ["_normalize_ops.so", "_regex_split_ops.so"]),
    ("exported_wordpiece", ["_fast_wordpiece_tokenizer.so", "_normalize_ops.so", "_regex_split_ops.so"]),
])
def test_serving_load_registers_only_the_ops_the_graph_uses_without_importing_tensorflow_text(
        export, libraries, request):
    path, translator = request.getfixturevalue(export)
    result = run_client("load_without_tensorflow_text", path, json.dumps(SENTENCES))
    assert result.returncode == 0, result.stderr[-3000:]
    imported, mapped, translations = result.stdout.splitlines()[-3:]
    assert imported == "[]"
    assert json.loads(mapped) == libraries
    assert json.loads(translations) == in_process(translator)[0]


def test_op_types_reads_a_text_format_saved_model_as_the_binary_one(exported, tmp_path):
    path, _ = exported
    text_copy = shutil.copytree(path, tmp_path / "1")
    binary = saved_model_pb2.SavedModel()
    binary.ParseFromString((text_copy / "saved_model.pb").read_bytes())
    (text_copy / "saved_model.pbtxt").write_text(text_format.MessageToString(binary))
    os.remove(text_copy / "saved_model.pb")
    assert tf.saved_model.contains_saved_model(str(text_copy))
    assert serving.op_types(str(text_copy)) == serving.op_types(path) >= {"RegexSplitWithOffsets", "MatMul"}


def test_hostile_inputs_never_crash_the_loaded_model(exported):
    assert_survives_hostile_inputs(exported[0])


def test_a_shortlist_export_warms_up_every_signature(exported_shortlist):
    path, _ = exported_shortlist
    names = ("serving_default", "beam_search", "score", "encode", "beam_search_full_softmax")
    assert replay_warmup(path, "xla_on") == [["tiny", name, 4] for name in names]


def test_a_shortlist_exports_full_softmax_signature_decodes_like_a_plain_export(exported, exported_shortlist):
    plain = client_on_sentences("beam_signature", exported[0], "beam_search")
    full = client_on_sentences("beam_signature", exported_shortlist[0], "beam_search_full_softmax")
    assert full["translations"] == plain["translations"]
    np.testing.assert_allclose(full["scores"], plain["scores"], atol=1e-4)


@pytest.fixture(scope="module")
def exported_xla(trained_model_dir, tmp_path_factory):
    """The tiny model exported with `jit_compile` (and the default warm-up file)."""
    config = config_lib.load(trained_model_dir).replace(jit_compile=True)
    return serving.export_model_dir(config, trained_model_dir, str(tmp_path_factory.mktemp("xla") / "tiny"))


def test_xla_signature_decodes_like_beam_search(exported_xla):
    assert_xla_decodes_like_beam_search(exported_xla)


def test_jit_compile_warmup_file_replays_with_xla_disabled_as_tf_serving_runs(exported_xla):
    replayed = replay_warmup(exported_xla, "xla_off", "probe_xla")
    # The warm-up file leaves beam_search_xla out, so every request succeeds without XLA ...
    assert replayed[:-1] == [["tiny", name, 4] for name in ("serving_default", "beam_search", "score", "encode")]
    # ... while the signature itself does need XLA: the switch really is off.
    assert replayed[-1][:2] == ["probe", "beam_search_xla"]
    assert "XLA compilation disabled" in replayed[-1][2]


def test_warmup_xla_writes_requests_that_only_an_xla_enabled_server_replays(
    trained_model_dir, tmp_path
):
    config = config_lib.load(trained_model_dir).replace(jit_compile=True)
    path = serving.export_model_dir(config, trained_model_dir, str(tmp_path / "tiny"), warmup_xla=True)
    replayed = replay_warmup(path, "xla_off")
    assert [name for _, name, _ in replayed] == [
        "serving_default", "beam_search", "score", "encode", "beam_search_xla"
    ]
    assert "XLA compilation disabled" in replayed[-1][2]


def xla_compiled_nodes(graph_def):
    """The nodes of a GraphDef and of its function library that need XLA.

    A node needs XLA if it is an XLA op (`XlaLaunch`, `_XlaCompile`, ...) or
    carries `_XlaMustCompile: true` (a call of a `jit_compile` function); a
    function compiled with `jit_compile` carries that attribute itself.

    Returns:
        Sorted list of `"function/node"` names (`"function"` for a function's own attribute).
    """
    def must_compile(attr):
        return "_XlaMustCompile" in attr and attr["_XlaMustCompile"].b

    def needing_xla(prefix, nodes):
        return [f"{prefix}/{node.name}" for node in nodes if "Xla" in node.op or must_compile(node.attr)]

    found = needing_xla("", graph_def.node)
    for function in graph_def.library.function:
        found += needing_xla(function.signature.name, function.node_def)
        if must_compile(function.attr):
            found.append(function.signature.name)
    return sorted(found)


def saved_model_xla_nodes(path):
    """`xla_compiled_nodes` of every graph in the SavedModel at `path`."""
    meta_graphs = serving.read_saved_model(path).meta_graphs
    return [name for meta_graph in meta_graphs for name in xla_compiled_nodes(meta_graph.graph_def)]


@pytest.mark.parametrize("export", ["exported", "exported_wordpiece"])
def test_default_export_holds_no_xla_compiled_function(export, request):
    """TF Serving disables XLA: no function of a default export may need it (a `jit_compile`
    function is a call node with `_XlaMustCompile`, not an `XlaLaunch` op)."""
    path, _ = request.getfixturevalue(export)
    assert saved_model_xla_nodes(path) == []


def test_jit_compile_export_holds_xla_compiled_functions(exported_xla):
    """The check above finds XLA where it is: `jit_compile` exports put it in `beam_search_xla`."""
    assert saved_model_xla_nodes(exported_xla)
