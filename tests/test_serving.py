"""The exported SavedModel: versions, fresh-process loading, TF1 sessions, portable ops."""

import json
import os

import pytest
import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import serving

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
print(json.dumps({
    "translations": [t.decode() for t in default["translations"].numpy()],
    "scores": default["scores"].numpy().tolist(),
    "nbest": [[t.decode() for t in row] for row in nbest["translations"].numpy()],
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
    translator, _ = serving.translator_from_model_dir(config, trained_model_dir)
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


def test_tf1_session_load_by_tensor_names_as_tf_serving_does(exported):
    path, translator = exported
    assert_same_as_in_process(run_client(TF1_CLIENT, path), translator)


# tf-text ops that exist in tensorflow-text 2.12, the version TF Serving links.
TF_TEXT_2_12_OPS = {"NormalizeUTF8", "RegexSplitWithOffsets"}

# Lists the ops of every graph in a SavedModel that core TensorFlow does not
# register (run without importing tensorflow_text).
NON_CORE_OPS = """
import json, sys
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow.python.framework import op_def_registry
model = saved_model_pb2.SavedModel()
model.ParseFromString(open(sys.argv[1] + "/saved_model.pb", "rb").read())
ops = set()
for meta_graph in model.meta_graphs:
    ops |= {node.op for node in meta_graph.graph_def.node}
    for function in meta_graph.graph_def.library.function:
        ops |= {node.op for node in function.node_def}
print(json.dumps(sorted(op for op in ops if op_def_registry.get(op) is None)))
"""


def test_graphs_use_only_core_ops_and_tf_text_2_12_ops(exported):
    path, _ = exported
    result = run_python(["-c", NON_CORE_OPS, path])
    assert result.returncode == 0, result.stderr
    non_core = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert non_core and non_core <= TF_TEXT_2_12_OPS
    assert b"XlaLaunch" not in open(os.path.join(path, "saved_model.pb"), "rb").read()


def test_beam_search_rejects_more_hypotheses_than_beams(exported):
    _, translator = exported
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_hypotheses must be <= beam_size"):
        translator.beam_search(tf.constant(["Hi."]), tf.constant(2), tf.constant(3))


def test_empty_batch_and_empty_sentence_give_well_formed_outputs(exported):
    _, translator = exported
    empty = translator.serve(tf.constant([], tf.string))
    assert empty["translations"].shape == (0,) and empty["scores"].shape == (0,)
    one = translator.serve(tf.constant([""]))
    assert one["translations"].shape == (1,)
