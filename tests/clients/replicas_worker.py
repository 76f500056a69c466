"""One worker of a 2-worker cluster (TF_CONFIG set) training runs of the tiny model under `multi_worker`.

    TF_CONFIG=... python tests/clients/replicas_worker.py CORPUS_DIR OUT_DIR RUNS_JSON

RUNS_JSON maps a run name to `helpers.tiny_config` changes; each run trains
into OUT_DIR/RUN-multi_worker (the chief writes it).
"""

import json
import os
import sys

from tf_seq2seq import distribution, training

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/
from helpers import tiny_config  # noqa: E402

corpus, out, runs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
strategy = distribution.multi_worker_strategy(tiny_config(corpus, peer_timeout=60.0))
for run, changes in runs.items():
    training.train(tiny_config(corpus, **changes), f"{out}/{run}-multi_worker", strategy)
