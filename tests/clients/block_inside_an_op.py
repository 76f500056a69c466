"""Blocks inside a TensorFlow op that never returns, within `stop_signals.stop_requests()`.

    python tests/clients/block_inside_an_op.py

Prints `blocking` before the op, and `stop requested` when a first SIGINT or
SIGTERM is heard (Python runs no signal handler while the op blocks); a second
signal ends the process.
"""

import threading

import tensorflow as tf

from tf_seq2seq import stop_signals

with stop_signals.stop_requests() as stop:
    threading.Thread(target=lambda: stop.wait() and print("stop requested", flush=True), daemon=True).start()
    print("blocking", flush=True)
    tf.queue.FIFOQueue(1, tf.int32).dequeue()  # Never returns: Python runs no handler meanwhile.
