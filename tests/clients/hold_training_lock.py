"""Holds the training lock of a model directory, says so, then waits to be killed.

    python tests/clients/hold_training_lock.py MODEL_DIR

Prints `locked` once `model_dir.training_lock(MODEL_DIR)` is held, then sleeps 10 minutes.
"""

import sys
import time

from tf_seq2seq import model_dir

with model_dir.training_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(600)
