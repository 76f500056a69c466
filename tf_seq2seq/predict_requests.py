"""TF Serving `PredictRequest`s for the exported signatures, and the warm-up file built from them.

The gRPC example client (`examples/serving/grpc_client.py`) and `export` build
requests the same way. TF Serving replays `assets.extra/tf_serving_warmup_requests`
(a TFRecord file of `PredictionLog`s) when it loads a version, so the first real
request does not pay for graph initialisation (or XLA compilation).
"""

import os

import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")


def predict_request(model_name, sentences, signature_name="serving_default", beam_size=None,
                    num_hypotheses=None, translations=None):
    """A `PredictRequest` translating `sentences` (or, for `score`, scoring their `translations`).

    Args:
        model_name: the model's name on the server (its base directory name).
        sentences: list of str.
        signature_name: `serving_default`, `beam_search`, `beam_search_xla`, `score` or `encode`.
        beam_size: int, required by (and only for) the beam_search signatures.
        num_hypotheses: int, as beam_size.
        translations: list of str, one per sentence, required by (and only for) `score`.

    Returns:
        A `tensorflow_serving.apis.predict_pb2.PredictRequest`.

    Raises:
        ValueError: if beam_size/num_hypotheses/translations are missing or not expected.
    """
    takes_beam = signature_name.startswith("beam_search")
    if takes_beam != (beam_size is not None and num_hypotheses is not None):
        raise ValueError(
            f"signature {signature_name!r} "
            + ("needs" if takes_beam else "does not take")
            + " beam_size and num_hypotheses"
        )
    takes_translations = signature_name == "score"
    if takes_translations != (translations is not None):
        raise ValueError(
            f"signature {signature_name!r} "
            + ("needs" if takes_translations else "does not take")
            + " translations"
        )
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    texts = {"sentences": sentences, **({"translations": translations} if takes_translations else {})}
    for name, values in texts.items():
        request.inputs[name].CopyFrom(
            tf.make_tensor_proto([s.encode("utf-8") for s in values], dtype=tf.string)
        )
    if takes_beam:
        for name, value in (("beam_size", beam_size), ("num_hypotheses", num_hypotheses)):
            request.inputs[name].CopyFrom(tf.make_tensor_proto(value, dtype=tf.int32))
    return request


def warmup_sentences(source_words, max_source_length):
    """Warm-up inputs of growing length made of frequent source words.

    Args:
        source_words: list of str, source vocabulary words (most frequent first).
        max_source_length: the export's source length limit.

    Returns:
        A list of str: an empty input, then sentences of 1, 10 and
        `max_source_length` words.
    """
    words = source_words or ["a"]
    lengths = sorted({1, min(10, max_source_length), max_source_length})
    return [""] + [" ".join(words[i % len(words)] for i in range(n)) for n in lengths]


def warmup_requests(model_name, sentences, beam_size, signatures, translations):
    """One request per signature over `sentences` (the beam_search ones with `beam_size`,
    `score` with `translations`, a list of str as long as `sentences`)."""
    requests = []
    for signature in signatures:
        extra = {"beam_size": beam_size, "num_hypotheses": 1} if signature.startswith("beam_search") else {}
        if signature == "score":
            extra = {"translations": translations}
        requests.append(predict_request(model_name, sentences, signature, **extra))
    return requests


def write_warmup_file(version_path, requests):
    """Writes `requests` as `VERSION/assets.extra/tf_serving_warmup_requests`."""
    path = os.path.join(version_path, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for request in requests:
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())


def read_warmup_file(version_path):
    """The `PredictRequest`s of a version's warm-up file, in order."""
    path = os.path.join(version_path, WARMUP_FILE)
    requests = []
    for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
        requests.append(prediction_log_pb2.PredictionLog.FromString(record).predict_log.request)
    return requests


def request_inputs(request):
    """A request's inputs as `{name: tf.Tensor}`, ready to call a signature with."""
    return {name: tf.constant(tf.make_ndarray(proto)) for name, proto in request.inputs.items()}
