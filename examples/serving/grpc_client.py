"""Translates with a tf-seq2seq model served by TensorFlow Serving over gRPC (port 8500).

    python examples/serving/grpc_client.py --model_name=demo "How are you?" "I love cats."
    python examples/serving/grpc_client.py --signature=beam_search --beam_size=5 \\
        --num_hypotheses=3 "How are you?"

Requests are built by `tf_seq2seq.predict_requests` (as the export's warm-up file is).
"""

import grpc
import tensorflow as tf
from absl import app, flags
from tensorflow_serving.apis import prediction_service_pb2_grpc

import client_flags
from tf_seq2seq import predict_requests

flags.DEFINE_string("server", "localhost:8500", "TF Serving gRPC address.")
FLAGS = flags.FLAGS


def build_request(sentences):
    """The `PredictRequest` the flags describe, for `sentences` (list of str)."""
    return predict_requests.predict_request(
        FLAGS.model_name, sentences, FLAGS.signature, **client_flags.beam_inputs()
    )


def parse_response(response):
    """`(translations, scores)` of a `PredictResponse`: one list per sentence, best first."""
    texts = tf.make_ndarray(response.outputs["translations"])
    scores = tf.make_ndarray(response.outputs["scores"])
    if texts.ndim == 1:  # serving_default: one translation per sentence.
        texts, scores = texts[:, None], scores[:, None]
    return (
        [[t.decode("utf-8") for t in row] for row in texts],
        [[float(s) for s in row] for row in scores],
    )


def main(argv):
    sentences = argv[1:]
    if not sentences:
        raise app.UsageError("give the sentences to translate as arguments")
    with grpc.insecure_channel(FLAGS.server) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        response = stub.Predict(build_request(sentences), timeout=FLAGS.timeout)
    for sentence, texts, scores in zip(sentences, *parse_response(response)):
        for text, score in zip(texts, scores):
            print(f"{sentence}\t{score:.4f}\t{text}")


if __name__ == "__main__":
    app.run(main)
