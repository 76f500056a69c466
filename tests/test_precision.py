"""precision.py: the policies a model is built in, loss scaling, and which policies are slower on this CPU."""

import keras
import pytest
import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import model as model_lib
from tf_seq2seq import precision


def test_a_precision_slower_than_float32_on_this_cpu_is_named(tmp_path, caplog):
    with_bf16, without = tmp_path / "epyc", tmp_path / "icelake"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16\n", encoding="utf-8")
    without.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_vnni\n", encoding="utf-8")
    assert precision.native_bfloat16(str(with_bf16)) and not precision.native_bfloat16(str(without))
    assert not precision.native_bfloat16(str(tmp_path / "missing"))
    for policy, cpuinfo, warned in [("mixed_bfloat16", with_bf16, False), ("mixed_bfloat16", without, True),
                                    ("mixed_float16", with_bf16, True), ("", without, False)]:
        caplog.clear()
        with caplog.at_level("WARNING", logger="absl"):
            precision._warn_if_slow_on_this_cpu(policy, str(cpuinfo))
        assert bool(caplog.messages) == warned, (policy, cpuinfo)
        assert all(f"--mixed_precision={policy}" in message and "slower than float32" in message
                   for message in caplog.messages)


@pytest.mark.parametrize("policy,compute", [("mixed_bfloat16", "bfloat16"), ("", "float32")])
def test_training_precision_builds_in_the_policy_and_leaves_the_global_one_as_it_was(policy, compute):
    config = config_lib.Config(num_layers=1, units=8, embedding_dim=8, mixed_precision=policy)
    before = keras.mixed_precision.global_policy().name
    with precision.training_precision(config):
        seq2seq = model_lib.Seq2Seq(config, 20, 30)
    assert keras.mixed_precision.global_policy().name == before
    source = tf.constant([[4, 5, 6, 0]])
    logits = seq2seq.logits({"source": source, "target_in": tf.constant([[2, 7, 8]])})
    assert seq2seq.projection.compute_dtype == compute
    assert all(weight.dtype == tf.float32 for weight in seq2seq.training_model.weights)
    assert logits.shape == (1, 3, 30)


def test_only_mixed_float16_scales_the_loss():
    for policy, scaled in [("mixed_float16", True), ("mixed_bfloat16", False), ("", False)]:
        optimizer = precision.loss_scaled(keras.optimizers.SGD(0.1), config_lib.Config(mixed_precision=policy))
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer) == scaled
