"""Translates with a tf-seq2seq model served by TensorFlow Serving's REST API (port 8501).

    python examples/serving/rest_client.py --model_name=demo "How are you?"
    python examples/serving/rest_client.py --signature=beam_search --beam_size=5 \\
        --num_hypotheses=3 "How are you?"
"""

import requests
from absl import app, flags

flags.DEFINE_string("server", "http://localhost:8501", "TF Serving REST address.")
flags.DEFINE_string("model_name", "demo", "Model name on the server (its base directory name).")
flags.DEFINE_enum("signature", "serving_default", ["serving_default", "beam_search", "beam_search_xla"],
                  "Signature to call.")
flags.DEFINE_integer("beam_size", 4, "beam_search signatures: beam size.")
flags.DEFINE_integer("num_hypotheses", 1, "beam_search signatures: translations per sentence.")
flags.DEFINE_float("timeout", 30.0, "Seconds to wait for the server.")
FLAGS = flags.FLAGS


def request_body(sentences):
    """The JSON body of a predict call (columnar "inputs": the beam inputs are scalars)."""
    inputs = {"sentences": list(sentences)}
    if FLAGS.signature.startswith("beam_search"):
        inputs.update(beam_size=FLAGS.beam_size, num_hypotheses=FLAGS.num_hypotheses)
    return {"signature_name": FLAGS.signature, "inputs": inputs}


def main(argv):
    sentences = argv[1:]
    if not sentences:
        raise app.UsageError("give the sentences to translate as arguments")
    url = f"{FLAGS.server}/v1/models/{FLAGS.model_name}:predict"
    response = requests.post(url, json=request_body(sentences), timeout=FLAGS.timeout)
    response.raise_for_status()
    outputs = response.json()["outputs"]
    for sentence, texts, scores in zip(sentences, outputs["translations"], outputs["scores"]):
        texts, scores = (texts, scores) if isinstance(texts, list) else ([texts], [scores])
        for text, score in zip(texts, scores):
            print(f"{sentence}\t{score:.4f}\t{text}")


if __name__ == "__main__":
    app.run(main)
