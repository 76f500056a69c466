"""Training progress: log lines in order, and a progress bar on a terminal."""

import os
import re
import threading

from tf_seq2seq import training

from helpers import PAIRS, tiny_config, tiny_flags, write_corpus


def test_progress_says_what_ends_the_run_and_logs_the_first_step_at_once(tmp_path, caplog):
    # A corpus of its own: a file is checked once per process, and other tests read the shared one.
    corpus_dir = write_corpus(tmp_path / "corpus", {"train": PAIRS})
    config = tiny_config(corpus_dir, train_steps=3, epochs=0, batch_size=4, log_every_steps=1000)
    with caplog.at_level("INFO", logger="absl"):
        training.train(config, str(tmp_path / "model"))
    text = caplog.text
    assert "Training stops at step 3 (--train_steps); now at step 0, epoch 0.00" in text
    first = re.search(r"step 1/3  epoch \d+\.\d\d  elapsed 0:00:\d\d  loss [\d.]+  \(first step: ", text)
    last = re.search(r"step 3/3  epoch \d+\.\d\d  elapsed 0:00:\d\d  ETA 0:00:00  loss [\d.]+  perplexity", text)
    assert first and last, text
    # What it does before the first step, in order: the corpus is checked as the run opens it.
    milestones = ["Checking", "Building vocabularies", "are skipped in training", "Model:",
                  "Training stops", "Tracing the training step", "step 1/3"]
    positions = [text.index(milestone) for milestone in milestones]
    assert positions == sorted(positions)


def test_training_shows_a_progress_bar_on_a_terminal(tiny_corpus, tmp_path, monkeypatch):
    import fcntl
    import pty
    import struct
    import sys
    import termios

    terminal, terminal_end = pty.openpty()
    fcntl.ioctl(terminal_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    shown = []

    def read_terminal():
        while True:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # Closed.
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    with os.fdopen(terminal_end, "w") as stderr:
        monkeypatch.setattr(sys, "stderr", stderr)
        training.train(tiny_config(tiny_corpus, train_steps=5, epochs=0, batch_size=4),
                       str(tmp_path / "model"))
    reader.join(timeout=10)
    os.close(terminal)
    bar = b"".join(shown).decode(errors="replace")
    assert "5/5" in bar and "step" in bar and re.search(r"epoch \d+\.\d\d loss \d", bar), bar


def test_on_a_terminal_log_lines_and_the_bar_never_share_a_line_and_the_bar_ends_at_the_last_step(
        tiny_corpus, tmp_path):
    import fcntl
    import pty
    import struct
    import subprocess
    import sys
    import termios

    terminal, terminal_end = pty.openpty()
    fcntl.ioctl(terminal_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 160, 0, 0))
    flags = tiny_flags(tiny_corpus, train_steps=0, epochs=3, batch_size=3, log_every_steps=2)
    env = {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}  # A user's.
    process = subprocess.Popen([sys.executable, "-m", "tf_seq2seq.train", f"--model_dir={tmp_path}/m", *flags],
                               stdout=subprocess.PIPE, stderr=terminal_end, text=True, env=env)
    os.close(terminal_end)
    shown = []
    while True:
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # The process ended and closed the terminal.
            break
        if not chunk:
            break
        shown.append(chunk)
    out, _ = process.communicate(timeout=300)
    os.close(terminal)
    assert process.returncode == 0, out
    step = int(re.search(r"step (\d+),", out).group(1))
    segments = [s.strip() for s in re.split(r"[\r\n]", b"".join(shown).decode(errors="replace")) if s.strip()]
    bar = re.compile(r"\d+/\d+ \[")
    log_line = re.compile(r"^[IWEF] \d\d:\d\d:\d\d ")
    assert [s for s in segments if log_line.match(s)], segments  # Short prefixes: level and time.
    assert not [s for s in segments if bar.search(s) and (log_line.search(s) or "] " in s.split("|")[0])]
    assert not [s for s in segments if not bar.search(s) and not log_line.match(s)], segments
    assert f"{step}/{step} [" in [s for s in segments if bar.search(s)][-1]
