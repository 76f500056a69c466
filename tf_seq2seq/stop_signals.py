"""Stop requests: SIGINT and SIGTERM ask a training run to checkpoint and stop; a second one stops it at once."""

import contextlib
import os
import signal
import threading

from absl import logging

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest(threading.Event):
    """An event set by the first stop signal; `signal` is that signal (a `signal.Signals`), else None."""

    def __init__(self):
        super().__init__()
        self.signal = None

    def exit_status(self):
        """128 + the signal's number: how a shell and a scheduler tell a run stopped by it."""
        return 128 + int(self.signal)


@contextlib.contextmanager
def stop_requests():
    """Turns SIGINT and SIGTERM into a request to checkpoint and stop.

    The first signal sets the yielded event (the training loop checkpoints and
    stops after its current step). A second one ends the process at once,
    with exit status 128 + the signal's number and no checkpoint: for a run
    that cannot reach the end of its step, e.g. blocked inside a TensorFlow
    op. Both are heard even then: Python runs signal handlers only between
    bytecodes of the main thread, so a watcher thread wakes on
    `signal.set_wakeup_fd` instead.

    Yields:
        A `StopRequest` set when a signal arrived. Outside the main thread
        (where Python cannot handle signals) it is never set.
    """
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous = {sig: signal.signal(sig, lambda signum, frame: None) for sig in SIGNALS}
    previous_wakeup_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    watcher = threading.Thread(target=_watch, args=(read_fd, stop), name="stop_signals", daemon=True)
    watcher.start()
    try:
        yield stop
    finally:
        signal.set_wakeup_fd(previous_wakeup_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(write_fd)  # Ends the watcher.
        watcher.join()
        os.close(read_fd)


def _watch(read_fd, stop):
    """Reads the signal numbers the C-level handler writes to `read_fd`, until it closes.

    Args:
        read_fd: the read end of the wakeup pipe.
        stop: the `StopRequest` of `stop_requests`.
    """
    while signal_numbers := os.read(read_fd, 64):
        for signum in signal_numbers:
            if signum not in SIGNALS:
                continue
            name = signal.Signals(signum).name
            if stop.is_set():
                logging.warning("Received %s again: stopping now, without a checkpoint", name)
                logging.flush()
                os._exit(128 + signum)
            logging.warning("Received %s: saving a checkpoint, then stopping (send it again to stop "
                            "at once, without a checkpoint)", name)
            stop.signal = signal.Signals(signum)
            stop.set()
