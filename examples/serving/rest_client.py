"""Translates with a tf-seq2seq model served by TensorFlow Serving's REST API (port 8501).

    python examples/serving/rest_client.py --model_name=demo "How are you?"
    python examples/serving/rest_client.py --signature=beam_search --beam_size=5 \\
        --num_hypotheses=3 "How are you?"
"""

import requests
from absl import app, flags

import client_flags

flags.DEFINE_string("server", "http://localhost:8501", "TF Serving REST address.")
FLAGS = flags.FLAGS


def request_body(sentences):
    """The JSON body of a predict call (columnar "inputs": the beam inputs are scalars)."""
    inputs = {"sentences": list(sentences), **client_flags.beam_inputs()}
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
