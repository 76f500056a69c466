#!/usr/bin/env bash
# Translates with a tf-seq2seq model served by TF Serving's REST API (port 8501).
# Usage: examples/serving/rest_client.sh [MODEL_NAME] [HOST:PORT]
set -euo pipefail
model="${1:-demo}"
server="${2:-localhost:8501}"

# serving_default: the best translation of each sentence.
curl -sS -X POST "http://${server}/v1/models/${model}:predict" \
  -d '{"signature_name": "serving_default",
       "inputs": {"sentences": ["How are you?", "I love cats."]}}'
echo

# beam_search: the 3 best translations of each sentence with a beam of 5
# (scalar inputs, so use the columnar "inputs" format, not "instances").
curl -sS -X POST "http://${server}/v1/models/${model}:predict" \
  -d '{"signature_name": "beam_search",
       "inputs": {"sentences": ["How are you?"], "beam_size": 5, "num_hypotheses": 3}}'
echo
