"""The examples/serving clients, the saved_model_cli wrapper and the Python snippet of docs/serving.md.

Each check runs in a fresh process because the clients define absl flags of
their own. The gRPC request goes through the loaded SavedModel (as TF Serving
would run it) and the outputs come back as a real `PredictResponse`.
"""

import ast
import json
import os
import re

import pytest

from conftest import run_python

ROOT = os.path.join(os.path.dirname(__file__), os.pardir)
EXAMPLES = os.path.join(ROOT, "examples", "serving")

GRPC_CHECK = """
import json, sys
sys.path.insert(0, sys.argv[1])
import tensorflow as tf
import tensorflow_text  # Registers the tf-text ops used by the graph.
from tensorflow_serving.apis import predict_pb2
import grpc_client
from tf_seq2seq import predict_requests
grpc_client.FLAGS(["grpc_client", "--model_name=tiny", "--signature=beam_search",
                   "--beam_size=3", "--num_hypotheses=2"])
request = grpc_client.build_request(["Go.", "Hi."])
assert request.model_spec.name == "tiny"
assert request.model_spec.signature_name == "beam_search"
model = tf.saved_model.load(sys.argv[2])
outputs = model.signatures["beam_search"](**predict_requests.request_inputs(request))
response = predict_pb2.PredictResponse()
for name, tensor in outputs.items():
    response.outputs[name].CopyFrom(tf.make_tensor_proto(tensor.numpy()))
print(json.dumps({
    "inputs": {k: tf.make_ndarray(v).tolist() for k, v in request.inputs.items()
               if k != "sentences"},
    "sentences": [s.decode() for s in tf.make_ndarray(request.inputs["sentences"])],
    "parsed": grpc_client.parse_response(response),
}))
"""

REST_CHECK = """
import json, sys
sys.path.insert(0, sys.argv[1])
import rest_client
rest_client.FLAGS(["rest_client", "--signature=" + sys.argv[2], "--beam_size=5"])
print(json.dumps(rest_client.request_body(["Go."])))
"""


def last_json(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def exported(trained_model_dir, tmp_path_factory):
    """The version path of the tiny model exported as `tiny`."""
    from tf_seq2seq import config as config_lib
    from tf_seq2seq import serving

    export_dir = str(tmp_path_factory.mktemp("clients") / "tiny")
    return serving.export_model_dir(config_lib.load(trained_model_dir), trained_model_dir, export_dir)


def test_grpc_client_builds_requests_the_model_answers(exported):
    report = last_json(run_python(["-c", GRPC_CHECK, EXAMPLES, exported]))
    assert report["sentences"] == ["Go.", "Hi."]
    assert report["inputs"] == {"beam_size": 3, "num_hypotheses": 2}
    translations, scores = report["parsed"]
    assert [row[0] for row in translations] == ["Va !", "Salut."]
    assert all(len(row) == 2 and row[0] >= row[1] for row in scores)


def test_rest_client_sends_columnar_inputs():
    beam = last_json(run_python(["-c", REST_CHECK, EXAMPLES, "beam_search"]))
    assert beam == {
        "signature_name": "beam_search",
        "inputs": {"sentences": ["Go."], "beam_size": 5, "num_hypotheses": 1},
    }
    default = last_json(run_python(["-c", REST_CHECK, EXAMPLES, "serving_default"]))
    assert default == {"signature_name": "serving_default", "inputs": {"sentences": ["Go."]}}


def test_saved_model_cli_wrapper_runs_signatures_the_stock_command_cannot(exported):
    args = ["run", "--dir", exported, "--tag_set", "serve", "--signature_def", "beam_search",
            "--input_exprs", 'sentences=["Go.", "Hi."];beam_size=3;num_hypotheses=2']
    stock = run_python(
        ["-c", "from tensorflow.python.tools import saved_model_cli; saved_model_cli.main()", *args]
    )
    assert stock.returncode != 0
    assert "Op type not registered 'NormalizeUTF8'" in stock.stderr
    wrapped = run_python([os.path.join(EXAMPLES, "saved_model_cli.py"), *args])
    assert wrapped.returncode == 0, wrapped.stderr[-3000:]
    translations = wrapped.stdout.split("Result for output key translations:")[1]
    rows = re.findall(r"\[([^\[\]]*)\]", translations.split("Result for")[0])
    assert [re.findall(r"b'([^']*)'", row)[0] for row in rows] == ["Va !", "Salut."]
    assert all(len(re.findall(r"b'", row)) == 2 for row in rows)


def python_api_snippet():
    """The first ```python block of docs/serving.md's "Python API" section."""
    with open(os.path.join(ROOT, "docs", "serving.md"), encoding="utf-8") as f:
        readme = f.read()
    section = readme.split("## Python API", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_python_api_snippet_runs_against_an_export(exported):
    snippet = python_api_snippet()
    assert '"saved_models/demo/1"' in snippet
    result = run_python(snippet.replace("saved_models/demo/1", exported), cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert [line.split(" -> ")[0] for line in lines[:2]] == ["How are you?", "I am hungry."]
    assert all(line.split(" -> ")[1] for line in lines[:2])
    nbest = ast.literal_eval(lines[2])
    assert len(nbest) == 3 and all(isinstance(t, str) for t in nbest)
