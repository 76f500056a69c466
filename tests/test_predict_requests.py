"""predict_requests: the warm-up file an export writes, replayed against the loaded model as TF Serving does."""

import numpy as np

from tf_seq2seq import predict_requests, serving

from helpers import replay_warmup


def test_warmup_file_replays_against_the_loaded_model(exported_model):
    replayed = replay_warmup(exported_model, "xla_on")
    # Every signature, each on 4 inputs (empty, 1 word, 10 words, max_source_length words).
    assert replayed == [["tiny", name, 4] for name in ("serving_default", "beam_search", "score", "encode")]


def test_the_warmup_file_scores_translations_of_growing_length(exported_model):
    requests = [r for r in predict_requests.read_warmup_file(exported_model) if r.model_spec.signature_name == "score"]
    assert len(requests) == 1
    inputs = predict_requests.request_inputs(requests[0])
    lengths = [len(t.split()) for t in inputs["translations"].numpy()]
    assert lengths == [0, 1, 10, 50] and inputs["sentences"].shape == (4,)
    outputs = serving.load(exported_model).signatures["score"](**inputs)
    assert np.isfinite(outputs["log_probs"].numpy()).all()
