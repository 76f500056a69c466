"""The examples/serving clients: request building and response parsing, no server needed.

Each check runs in a fresh process because the clients define absl flags of
their own. The gRPC request goes through the loaded SavedModel (as TF Serving
would run it) and the outputs come back as a real `PredictResponse`.
"""

import json
import os

from conftest import run_python

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples", "serving")

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


def test_grpc_client_builds_requests_the_model_answers(trained_model_dir, tmp_path):
    from tf_seq2seq import config as config_lib
    from tf_seq2seq import serving

    path = serving.export_model_dir(
        config_lib.load(trained_model_dir), trained_model_dir, str(tmp_path / "tiny")
    )
    report = last_json(run_python(["-c", GRPC_CHECK, EXAMPLES, path]))
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
