"""Builds a gRPC request with examples/serving/grpc_client.py and answers it with the loaded SavedModel.

    python tests/clients/grpc_request.py EXAMPLES_DIR VERSION_PATH

EXAMPLES_DIR is examples/serving. The request (model `tiny`, `beam_search`,
beam 3, 2 hypotheses, for "Go." and "Hi.") goes through the SavedModel as TF
Serving would run it, and its outputs come back as a real `PredictResponse`.
Prints one JSON line: the request's inputs other than the sentences, its
sentences, and `grpc_client.parse_response` of the response.
"""

import importlib
import json
import sys

import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from tf_seq2seq import predict_requests

sys.path.insert(0, sys.argv[1])
import grpc_client  # noqa: E402

importlib.import_module("tensorflow_text")  # Registers the tf-text ops used by the graph.

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
