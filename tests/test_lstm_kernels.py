"""scripts/lstm_kernels.py, BUILD.md's check that the LSTMs run on cuDNN, on this CPU-only machine."""

import os

from helpers import run_python, tiny_flags

SCRIPT = os.path.join(os.path.dirname(__file__), os.pardir, "scripts", "lstm_kernels.py")


def test_lstm_kernels_reports_the_generic_loop_without_a_gpu(tiny_corpus):
    result = run_python([SCRIPT, *tiny_flags(tiny_corpus)])
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == [
        "GPUs visible to TensorFlow: 0",
        "CudnnRNNV3: 0 (cuDNN on every layer: 4)",
        "CudnnRNNBackpropV3: 0 (cuDNN on every layer: 4)",
        "LSTMs run Keras' generic loop (no cuDNN)",
    ]
