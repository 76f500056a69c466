"""placement.py: one device per layer, checked against the model's depth."""

import pytest

from tf_seq2seq import placement
from tf_seq2seq.errors import Seq2SeqError

from helpers import tiny_config


def test_layer_devices_need_one_device_per_layer_plus_embeddings_and_softmax():
    assert placement.layer_devices(tiny_config("x")) is None
    devices = "/cpu:0, /cpu:1,/cpu:0,/cpu:1"
    assert placement.layer_devices(tiny_config("x", layer_devices=devices)) == [
        "/cpu:0", "/cpu:1", "/cpu:0", "/cpu:1"]
    with pytest.raises(Seq2SeqError, match=r"--layer_devices needs 4 devices .* got 2"):
        placement.layer_devices(tiny_config("x", layer_devices="/cpu:0,/cpu:0"))
