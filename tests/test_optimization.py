"""optimization.py: the paper's learning-rate schedule, the optimizers and the Keras API they rely on."""

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import model as model_lib
from tf_seq2seq import optimization, precision, training, vocab
from tf_seq2seq import loading
from tf_seq2seq.errors import Seq2SeqError

from helpers import tiny_config


@pytest.mark.parametrize(
    "step, expected",
    [(0, 0.7), (499, 0.7), (500, 0.35), (549, 0.35), (550, 0.175), (600, 0.0875), (749, 0.7 / 2**5)],
)
def test_paper_schedule_halves_every_half_epoch_after_five_epochs(step, expected):
    config = tiny_config("x", learning_rate=0.7, decay_start_epoch=5.0, decay_every_epochs=0.5)
    schedule = optimization.learning_rate(config, epoch_steps=100)
    assert float(schedule(step)) == pytest.approx(expected)


def test_constant_learning_rate_without_decay_and_error_when_epoch_unknown():
    assert optimization.learning_rate(tiny_config("x", learning_rate=0.1), None) == 0.1
    with pytest.raises(Seq2SeqError, match="decay_start_epoch"):
        optimization.learning_rate(tiny_config("x", decay_start_epoch=1.0), None)


def test_steps_per_epoch_counts_files_corpus(tiny_corpus):
    from tf_seq2seq import corpus

    pairs = corpus.load(f"files:{tiny_corpus}", "train", "en", "fr")
    assert optimization.steps_per_epoch(pairs, tiny_config("x", batch_size=3)) == 3  # 8 pairs.
    assert optimization.steps_per_epoch(pairs, tiny_config("x", batch_tokens=100)) is None


@pytest.mark.parametrize("epsilon", [1e-8, 1e-3])
def test_adam_takes_its_epsilon_from_the_config(epsilon):
    optimizer = optimization.make_optimizer(tiny_config("x", optimizer="adam", adam_epsilon=epsilon))
    assert optimizer.epsilon == epsilon
    assert not hasattr(optimization.make_optimizer(tiny_config("x", optimizer="sgd")), "epsilon")


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_with_float32_logits(tiny_corpus, tmp_path, policy):
    config = tiny_config(tiny_corpus, train_steps=30, mixed_precision=policy, log_every_steps=10)
    result = training.train(config, str(tmp_path / "model"))
    assert keras.mixed_precision.global_policy().name == "float32"  # Left as it was.
    with precision.training_precision(config):
        seq2seq = model_lib.Seq2Seq(config, 20, 20)
    assert seq2seq.encoder_layers[0].compute_dtype == policy.split("_")[1]
    # The softmax GEMM runs in the compute dtype; only its logits are cast to float32.
    assert seq2seq.projection.compute_dtype == policy.split("_")[1]
    features = {"source": tf.constant([[5, 6, 0]]), "target_in": tf.constant([[2, 7]])}
    assert seq2seq.logits(features).dtype == seq2seq.training_model(features).dtype == tf.float32
    assert isinstance(optimization.make_optimizer(config), keras.optimizers.LossScaleOptimizer) == (
        policy == "mixed_float16"
    )
    assert result["step"] == 30
    target_words = len(vocab.read(vocab.paths(str(tmp_path / "model"))[1]))
    assert np.isfinite(result["loss"]) and result["loss"] < 0.85 * np.log(target_words)  # Learnt.
    # A bfloat16-trained model also serves in bfloat16, any other in float32;
    # log-probs and scores stay float32 and the global policy is left as it was.
    translator, _ = loading.from_model_dir(config, str(tmp_path / "model"))
    serving_dtype = "bfloat16" if policy == "mixed_bfloat16" else "float32"
    assert translator.members[0].projection.compute_dtype == serving_dtype
    assert keras.mixed_precision.global_policy().name == "float32"
    outputs = translator.beam_search(tf.constant(["Hi.", "Go."]), tf.constant(2), tf.constant(2))
    assert outputs["scores"].dtype == tf.float32
    assert (outputs["scores"].numpy() < 0).all()
    assert (outputs["scores"][:, 0] >= outputs["scores"][:, 1]).numpy().all()


def test_fused_adam_updates_as_keras_adam_dense_and_sparse():
    import keras

    def two_steps(optimizer_class):
        embedding = keras.Variable(np.random.RandomState(0).randn(6, 4).astype("float32"))
        kernel = keras.Variable(np.random.RandomState(1).randn(4, 3).astype("float32"))
        optimizer = optimizer_class(learning_rate=0.01)
        optimizer.build([embedding, kernel])
        for rows in ([1, 3, 3], [0, 3]):
            with tf.GradientTape() as tape:
                outputs = tf.gather(embedding.value, rows) @ kernel.value
                loss = tf.reduce_sum(tf.tanh(outputs) ** 2)
            grads = tape.gradient(loss, [embedding.value, kernel.value])
            assert isinstance(grads[0], tf.IndexedSlices)
            optimizer.apply(optimization.sum_over_replicas(tf.distribute.get_replica_context(), grads),
                            [embedding, kernel])
        return [v.numpy() for v in [embedding, kernel, *optimizer.variables]]

    class KerasAdam(optimization._AppliesReducedGradients, keras.optimizers.Adam):
        pass

    fused, expected = two_steps(optimization.ReducedAdam), two_steps(KerasAdam)
    # Two weights, the step and learning rate, then a first and a second moment of each weight.
    assert len(fused) == 8 and int(fused[2]) == 2
    for value, expected_value in zip(fused, expected):
        # The same math; `1 - beta_2` differs by 1.3e-5 relative (float32 1 - 0.999: see ReducedAdam).
        np.testing.assert_allclose(value, expected_value, rtol=5e-5, atol=1e-7)


# The private Keras API `optimization.py` overrides or calls, with the parameters it relies on.
PRIVATE_KERAS_METHODS = {
    (keras.optimizers.SGD, "_all_reduce_sum_gradients"): ["self", "grads_and_vars"],
    (keras.optimizers.Adam, "_all_reduce_sum_gradients"): ["self", "grads_and_vars"],
    (keras.optimizers.Adam, "update_step"): ["self", "gradient", "variable", "learning_rate"],
    (keras.optimizers.Adam, "_get_variable_index"): ["self", "variable"],
}


@pytest.mark.parametrize("owner, name", list(PRIVATE_KERAS_METHODS))
def test_the_private_keras_methods_we_override_or_call_keep_their_signatures(owner, name):
    expected = PRIVATE_KERAS_METHODS[(owner, name)]
    method = getattr(owner, name, None)
    assert method is not None, (
        f"keras {keras.__version__}: {owner.__name__}.{name} is gone; tf_seq2seq/optimization.py "
        f"overrides or calls it (ReducedSGD / ReducedAdam): adapt them to this Keras"
    )
    parameters = list(inspect.signature(method).parameters)
    assert parameters == expected, (
        f"keras {keras.__version__}: {owner.__name__}.{name}{tuple(parameters)} was {tuple(expected)} "
        f"when tf_seq2seq/optimization.py was written against it: adapt ReducedSGD / ReducedAdam"
    )


def test_adam_keeps_the_slot_lists_the_fused_update_reads():
    optimizer = keras.optimizers.Adam()
    variable = keras.Variable(np.zeros([3]))
    optimizer.build([variable])
    index = optimizer._get_variable_index(variable)
    for slots in ("_momentums", "_velocities"):
        assert hasattr(optimizer, slots), (
            f"keras {keras.__version__}: Adam has no {slots}; ReducedAdam.update_step reads it"
        )
        assert getattr(optimizer, slots)[index].shape == variable.shape
