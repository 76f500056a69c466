"""Stop requests: SIGINT and SIGTERM ask a training run to checkpoint and stop."""

import contextlib
import signal
import threading

from absl import logging


@contextlib.contextmanager
def stop_requests():
    """Turns SIGINT and SIGTERM into a request to checkpoint and stop.

    Yields:
        A `threading.Event` set when a signal arrived. Outside the main thread
        (where Python cannot handle signals) it is never set.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def request_stop(signum, frame):
        logging.warning("Received %s: saving a checkpoint, then stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
