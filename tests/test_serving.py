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
from tf_seq2seq import translator as translator_lib

from conftest import PAIRS, run_python

SENTENCES = [en for en, _ in PAIRS[:5]] + ["Unknown words here.", ""]

# Loads the SavedModel the way a TF2 client does and prints both signatures' outputs.
TF2_CLIENT = """
import json, sys
import tensorflow as tf
import tensorflow_text  # Registers the tf-text ops used by the graph.
model = tf.saved_model.load(sys.argv[1])
sentences = tf.constant(json.loads(sys.argv[2]))
default = model.signatures["serving_default"](sentences=sentences)
nbest = model.signatures["beam_search"](
    sentences=sentences, beam_size=tf.constant(3), num_hypotheses=tf.constant(2))
vectors = model.signatures["encode"](sentences=sentences)["vectors"]
print(json.dumps({
    "translations": [t.decode() for t in default["translations"].numpy()],
    "scores": default["scores"].numpy().tolist(),
    "truncated": default["truncated"].numpy().tolist(),
    "nbest": [[t.decode() for t in row] for row in nbest["translations"].numpy()],
    "vectors_shape": vectors.shape.as_list(),
}))
"""

# Loads the SavedModel through the TF1 session API by tensor names, as TF Serving does.
TF1_CLIENT = """
import json, sys
import tensorflow as tf
import tensorflow_text  # Registers the tf-text ops used by the graph.
with tf.Graph().as_default(), tf.compat.v1.Session() as session:
    meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], sys.argv[1])
    signature = meta_graph.signature_def["serving_default"]
    outputs = session.run(
        {name: info.name for name, info in signature.outputs.items()},
        {signature.inputs["sentences"].name: json.loads(sys.argv[2])},
    )
print(json.dumps({
    "translations": [t.decode() for t in outputs["translations"]],
    "scores": outputs["scores"].tolist(),
}))
"""


@pytest.fixture(scope="module")
def exported(trained_model_dir, tmp_path_factory):
    """`(version_path, translator)`: the tiny model exported, and its in-process translator."""
    config = config_lib.load(trained_model_dir)
    export_dir = str(tmp_path_factory.mktemp("saved_models") / "tiny")
    path = serving.export_model_dir(config, trained_model_dir, export_dir)
    translator, _ = translator_lib.from_model_dir(config, trained_model_dir)
    return path, translator


@pytest.fixture(scope="module")
def exported_wordpiece(tiny_corpus, tmp_path_factory):
    """`(version_path, translator)` of a tiny model with a WordPiece vocabulary."""
    from tf_seq2seq import training

    from conftest import tiny_config

    model_dir = str(tmp_path_factory.mktemp("wordpiece_model"))
    config = tiny_config(tiny_corpus, tokenizer="wordpiece", train_steps=30)
    training.train(config, model_dir)
    path = serving.export_model_dir(config, model_dir, str(tmp_path_factory.mktemp("wp") / "tiny"))
    translator, _ = translator_lib.from_model_dir(config, model_dir)
    return path, translator


@pytest.fixture(scope="module")
def exported_shortlist(trained_model_dir, tmp_path_factory):
    """`(version_path, translator)` of the tiny model exported with a vocabulary shortlist."""
    model_dir = str(tmp_path_factory.mktemp("shortlist") / "model")
    shutil.copytree(trained_model_dir, model_dir)  # The shortlist's counts are saved in it.
    config = config_lib.load(model_dir).replace(shortlist=True, shortlist_words=2, shortlist_frequent=3)
    path = serving.export_model_dir(config, model_dir, str(tmp_path_factory.mktemp("sl") / "tiny"))
    translator, _ = translator_lib.from_model_dir(config, model_dir)
    return path, translator


def in_process(translator):
    outputs = translator.serve(tf.constant(SENTENCES))
    return [t.decode() for t in outputs["translations"].numpy()], outputs["scores"].numpy()


def test_export_writes_the_next_integer_version(trained_model_dir, tmp_path):
    config = config_lib.load(trained_model_dir)
    export_dir = str(tmp_path / "tiny")
    os.makedirs(os.path.join(export_dir, "7"))
    path = serving.export_model_dir(config, trained_model_dir, export_dir)
    assert path == os.path.join(export_dir, "8")
    assert sorted(os.listdir(export_dir)) == ["7", "8"]
    assert tf.saved_model.contains_saved_model(path)
    assert serving.saved_config(path) == config


def run_client(client, path):
    """Runs a client script on `SENTENCES` in a fresh process; returns its JSON output."""
    result = run_python(["-c", client, path, json.dumps(SENTENCES)])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_same_as_in_process(loaded, translator):
    translations, scores = in_process(translator)
    assert loaded["translations"] == translations
    assert loaded["scores"] == pytest.approx(scores.tolist(), abs=1e-4)


def test_fresh_process_load_translates_like_the_in_process_model(exported):
    path, translator = exported
    loaded = run_client(TF2_CLIENT, path)
    assert_same_as_in_process(loaded, translator)
    assert [row[0] for row in loaded["nbest"]][:5] == [fr for _, fr in PAIRS[:5]]
    assert all(len(row) == 2 for row in loaded["nbest"])
    assert loaded["truncated"] == [False] * len(SENTENCES)
    assert loaded["vectors_shape"] == [len(SENTENCES), 2 * 2 * 48]  # (h, c) x layers x units.


@pytest.mark.parametrize("export", ["exported", "exported_wordpiece", "exported_shortlist"])
def test_tf1_session_load_by_tensor_names_as_tf_serving_does(export, request):
    path, translator = request.getfixturevalue(export)
    assert_same_as_in_process(run_client(TF1_CLIENT, path), translator)


# tf-text ops that exist in tensorflow-text 2.12, the version TF Serving links.
TF_TEXT_2_12_OPS = {"NormalizeUTF8", "RegexSplitWithOffsets", "FastWordpieceTokenizeWithOffsets"}

# Lists the ops of every graph in a SavedModel that core TensorFlow does not
# register (run without importing tensorflow_text).
NON_CORE_OPS = """
import json, sys
from tensorflow.python.framework import op_def_registry
from tf_seq2seq import serving
print(json.dumps(sorted(op for op in serving.op_types(sys.argv[1]) if op_def_registry.get(op) is None)))
"""


@pytest.mark.parametrize("export", ["exported", "exported_wordpiece", "exported_shortlist"])
def test_graphs_use_only_core_ops_and_tf_text_2_12_ops(export, request):
    path, _ = request.getfixturevalue(export)
    result = run_python(["-c", NON_CORE_OPS, path])
    assert result.returncode == 0, result.stderr
    non_core = set(json.loads(result.stdout.strip().splitlines()[-1]))
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
    code = f"""
import json, os, sys
import tensorflow as tf
from tf_seq2seq import serving, text_ops
out = serving.load({path!r}).signatures["serving_default"](sentences=tf.constant({SENTENCES!r}))
print(sorted(name for name in sys.modules if name.startswith("tensorflow_text")))
mapped = {{os.path.basename(line.split()[-1]) for line in open("/proc/self/maps") if line.rstrip().endswith(".so")}}
print(json.dumps(sorted(mapped & set(text_ops.LIBRARIES))))
print(json.dumps([t.decode() for t in out["translations"].numpy()]))
"""
    result = run_python(code)
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


# Fires many hostile inputs at the loaded SavedModel, in batches, timing each call.
HOSTILE_CLIENT = r"""
import json, random, sys, time
import tensorflow as tf
import tensorflow_text  # Registers the tf-text ops used by the graph.
model = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
rng = random.Random(0)
pieces = ["", " ", "\t\n", "\u00a0", "\x00", "\x07\x1b[31m", "😀🇫🇷", "▁", "Go.", "ça",
          "\u202e", "<unk>", "<eos>", "' OR 1=1 --", "\ud7ff"]
inputs = [b"".join(rng.choice(pieces).encode() for _ in range(rng.randint(0, 12)))
          for _ in range(900)]
inputs += [bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) for _ in range(96)]
inputs += [("Go. " * 25000).encode(), b"\xff" * 100000, "😀".encode() * 25000, b"x" * 100000]
slowest, count = 0.0, 0
for start in range(0, len(inputs), 10):
    batch = inputs[start:start + 10]
    began = time.perf_counter()
    out = model(sentences=tf.constant(batch, tf.string))
    slowest = max(slowest, time.perf_counter() - began)
    assert out["translations"].shape == (len(batch),) and out["scores"].shape == (len(batch),)
    assert all(isinstance(t, bytes) for t in out["translations"].numpy())
    assert bool(tf.reduce_all(tf.math.is_finite(out["scores"])))
    count += len(batch)
empty = model(sentences=tf.constant([], tf.string))
assert empty["translations"].shape == (0,)
print(json.dumps({"count": count, "slowest": slowest}))
"""


def test_hostile_inputs_never_crash_the_loaded_model(exported):
    path, _ = exported
    result = run_python(["-c", HOSTILE_CLIENT, path])
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["count"] >= 1000
    assert report["slowest"] < 30.0  # A generous bound: no input makes a call run away.


# Replays the warm-up file's requests against the loaded SavedModel; with argv[2] == "xla_off"
# XLA is disabled first, as TF Serving does unless started with --xla_cpu_compilation_enabled.
# A failed request is reported, not raised; "probe_xla" then calls beam_search_xla once more.
WARMUP_CLIENT = """
import ctypes, json, os, sys
import tensorflow as tf
import tensorflow_text  # Registers the tf-text ops used by the graph.
from tf_seq2seq import predict_requests
if sys.argv[2] == "xla_off":
    tf_library = ctypes.CDLL(os.path.join(os.path.dirname(tf.__file__), "libtensorflow_cc.so.2"))
    tf_library._ZN10tensorflow21DisableXlaCompilationEv()  # tensorflow::DisableXlaCompilation()
model = tf.saved_model.load(sys.argv[1])
def call(signature, inputs):
    try:
        outputs = model.signatures[signature](**inputs)
        return int(tf.shape(outputs[sorted(outputs)[0]])[0])
    except tf.errors.OpError as e:
        return e.message
requests = predict_requests.read_warmup_file(sys.argv[1])
replayed = [[r.model_spec.name, r.model_spec.signature_name,
             call(r.model_spec.signature_name, predict_requests.request_inputs(r))] for r in requests]
if sys.argv[3:] == ["probe_xla"]:
    beam = [r for r in requests if r.model_spec.signature_name == "beam_search"][0]
    replayed.append(["probe", "beam_search_xla", call("beam_search_xla", predict_requests.request_inputs(beam))])
print(json.dumps(replayed))
"""


def replay_warmup(path, *args):
    result = run_python(["-c", WARMUP_CLIENT, path, *args])
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_warmup_file_replays_against_the_loaded_model(exported):
    path, _ = exported
    replayed = replay_warmup(path, "xla_on")
    # Every signature, each on 4 inputs (empty, 1 word, 10 words, max_source_length words).
    assert replayed == [["tiny", name, 4] for name in ("serving_default", "beam_search", "score", "encode")]


def test_a_shortlist_export_warms_up_every_signature(exported_shortlist):
    path, _ = exported_shortlist
    names = ("serving_default", "beam_search", "score", "encode", "beam_search_full_softmax")
    assert replay_warmup(path, "xla_on") == [["tiny", name, 4] for name in names]


# Prints one beam_search-like signature's n-best lists at beam 3 (argv[3]: its name).
SIGNATURE_CLIENT = """
import json, sys
import tensorflow as tf
import tensorflow_text  # Registers the tf-text ops used by the graph.
model = tf.saved_model.load(sys.argv[1])
out = model.signatures[sys.argv[3]](
    sentences=tf.constant(json.loads(sys.argv[2])), beam_size=tf.constant(3), num_hypotheses=tf.constant(3))
print(json.dumps({"translations": [[t.decode() for t in row] for row in out["translations"].numpy()],
                  "scores": out["scores"].numpy().tolist()}))
"""


def test_a_shortlist_exports_full_softmax_signature_decodes_like_a_plain_export(exported, exported_shortlist):
    def signature(path, name):
        result = run_python(["-c", SIGNATURE_CLIENT, path, json.dumps(SENTENCES), name])
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    plain = signature(exported[0], "beam_search")
    full = signature(exported_shortlist[0], "beam_search_full_softmax")
    assert full["translations"] == plain["translations"]
    np.testing.assert_allclose(full["scores"], plain["scores"], atol=1e-4)


# Compares the XLA-compiled beam_search_xla signature with beam_search in a fresh process.
XLA_CLIENT = """
import json, sys
import tensorflow as tf
import tensorflow_text  # Registers the tf-text ops used by the graph.
model = tf.saved_model.load(sys.argv[1])
sentences = tf.constant(json.loads(sys.argv[2]))
results = {}
for name in ("beam_search", "beam_search_xla"):
    for beam in (1, 3):
        out = model.signatures[name](
            sentences=sentences, beam_size=tf.constant(beam), num_hypotheses=tf.constant(beam))
        results[f"{name}/{beam}"] = {
            "translations": [[t.decode() for t in row] for row in out["translations"].numpy()],
            "scores": out["scores"].numpy().tolist(),
        }
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def exported_xla(trained_model_dir, tmp_path_factory):
    """The tiny model exported with `jit_compile` (and the default warm-up file)."""
    config = config_lib.load(trained_model_dir).replace(jit_compile=True)
    return serving.export_model_dir(config, trained_model_dir, str(tmp_path_factory.mktemp("xla") / "tiny"))


def test_xla_signature_decodes_like_beam_search(exported_xla):
    results = run_client(XLA_CLIENT, exported_xla)
    for beam in (1, 3):
        plain, xla = results[f"beam_search/{beam}"], results[f"beam_search_xla/{beam}"]
        assert xla["translations"] == plain["translations"]
        for xla_row, plain_row in zip(xla["scores"], plain["scores"]):
            assert xla_row == pytest.approx(plain_row, abs=1e-4)


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
