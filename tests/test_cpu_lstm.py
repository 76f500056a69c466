"""The CPU LSTM path and the beam search's decoder step compute what the Keras layers compute."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import settings
from tf_seq2seq import cpu_lstm
from tf_seq2seq import losses

from helpers import small_seq2seq


pytestmark = pytest.mark.usefixtures("float32_policy")


def test_cpu_path_is_chosen_without_a_gpu():
    assert not cpu_lstm.gpu_available()
    assert small_seq2seq()._cpu_lstm


def test_layer_outputs_and_final_states_equal_keras_with_right_padding():
    rng = np.random.default_rng(1)
    layer = keras.layers.LSTM(8, return_sequences=True, return_state=True,
                              kernel_initializer=keras.initializers.RandomUniform(-0.5, 0.5),
                              recurrent_initializer=keras.initializers.RandomUniform(-0.5, 0.5),
                              bias_initializer=keras.initializers.RandomUniform(-0.5, 0.5))
    inputs = tf.constant(rng.normal(size=[3, 5, 4]), tf.float32)
    mask = tf.constant([[True] * 5, [True] * 2 + [False] * 3, [True] + [False] * 4])
    initial = [tf.constant(rng.normal(size=[3, 8]), tf.float32) for _ in range(2)]
    expected, expected_h, expected_c = layer(inputs, mask=mask, initial_state=initial)

    outputs, h, c = cpu_lstm.lstm(layer.cell, tf.transpose(inputs, [1, 0, 2]), tf.transpose(mask), initial)

    np.testing.assert_allclose(tf.transpose(outputs, [1, 0, 2]), expected, atol=1e-6)
    np.testing.assert_allclose(h, expected_h, atol=1e-6)
    np.testing.assert_allclose(c, expected_c, atol=1e-6)
    # Right padding: the state after the last real token, not after the padding.
    _, last_h, last_c = layer(inputs[1:2, :2], initial_state=[s[1:2] for s in initial])
    np.testing.assert_allclose(h[1:2], last_h, atol=1e-6)
    np.testing.assert_allclose(c[1:2], last_c, atol=1e-6)


@pytest.mark.parametrize("used", ["outputs", "final_states", "both"])
def test_layer_gradients_equal_keras_with_right_padding(used):
    """The hand-written backward pass of the recurrence: gradients of the kernels, the
    inputs and the initial state, whether the outputs, the final states or both are used."""
    rng = np.random.default_rng(2)
    init = keras.initializers.RandomUniform(-0.5, 0.5)
    layer = keras.layers.LSTM(8, return_sequences=True, return_state=True, kernel_initializer=init,
                              recurrent_initializer=init, bias_initializer=init)
    inputs = tf.constant(rng.normal(size=[3, 5, 4]), tf.float32)
    mask = tf.constant([[True] * 5, [True] * 2 + [False] * 3, [True] + [False] * 4])
    initial = [tf.constant(rng.normal(size=[3, 8]), tf.float32) for _ in range(2)]
    weights = [tf.constant(rng.normal(size=shape), tf.float32) for shape in ([3, 5, 8], [3, 8], [3, 8])]
    layer(inputs, mask=mask, initial_state=initial)

    def gradients(run):
        sources = [inputs, *initial, *layer.trainable_variables]
        with tf.GradientTape() as tape:
            tape.watch(sources[:3])
            outputs, h, c = run()
            loss = 0.0
            if used != "final_states":
                loss += tf.reduce_sum(outputs * weights[0])
            if used != "outputs":
                loss += tf.reduce_sum(h * weights[1]) + tf.reduce_sum(c * weights[2])
        return tape.gradient(loss, sources)

    expected = gradients(lambda: layer(inputs, mask=mask, initial_state=initial))

    def cpu():
        outputs, h, c = cpu_lstm.lstm(layer.cell, tf.transpose(inputs, [1, 0, 2]), tf.transpose(mask), initial)
        return tf.transpose(outputs, [1, 0, 2]), h, c

    for name, grad, expected_grad in zip(["inputs", "h", "c", "W", "U", "b"], gradients(cpu), expected):
        np.testing.assert_allclose(grad, expected_grad, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("attention", settings.ATTENTIONS)
def test_training_logits_and_gradients_equal_the_keras_model(batch, attention, monkeypatch):
    # 24 target rows: the training step's softmax layer runs in 5 chunks, the last of 4 rows.
    monkeypatch.setattr(losses, "SOFTMAX_CHUNK_ROWS", 5)
    seq2seq = small_seq2seq(attention=attention)
    variables = seq2seq.training_model.trainable_variables
    labels = tf.roll(batch["target_in"], -1, axis=1)

    def loss_and_grads(compute_logits):
        with tf.GradientTape() as tape:
            logits = compute_logits()
            loss, _ = losses.masked_loss_sum(labels * tf.cast(batch["target_in"] > 0, tf.int32), logits)
        return logits, loss, tape.gradient(loss, variables)

    keras_logits, keras_loss, keras_grads = loss_and_grads(lambda: seq2seq.training_model(batch))
    cpu_logits, cpu_loss, cpu_grads = loss_and_grads(lambda: seq2seq.logits(batch))
    labels = labels * tf.cast(batch["target_in"] > 0, tf.int32)
    with tf.GradientTape() as tape:  # The training step's loss: softmax layer and loss in one.
        step_loss, tokens = seq2seq.loss_sum(batch, labels)
    step_grads = tape.gradient(step_loss, variables)
    assert float(tokens) == np.count_nonzero(labels)
    np.testing.assert_allclose(step_loss, keras_loss, rtol=1e-6)
    for variable, step_grad, expected in zip(variables, step_grads, keras_grads):
        np.testing.assert_allclose(tf.convert_to_tensor(step_grad), tf.convert_to_tensor(expected),
                                   atol=1e-5, err_msg=variable.path)

    assert cpu_logits.dtype == tf.float32
    mask = (batch["target_in"] > 0).numpy()
    np.testing.assert_allclose(cpu_logits.numpy()[mask], keras_logits.numpy()[mask], atol=1e-5)
    np.testing.assert_allclose(cpu_loss, keras_loss, rtol=1e-6)
    for variable, cpu, expected in zip(variables, cpu_grads, keras_grads):
        np.testing.assert_allclose(tf.convert_to_tensor(cpu), tf.convert_to_tensor(expected),
                                   atol=1e-5, err_msg=variable.path)


def _softmax_layer_problem(rows, dtype, seed=0):
    """Inputs [rows, 6] in `dtype`, float32 kernel [6, 30] and bias [30], labels int32 [rows] with
    every third one padding, and the mask float32 [rows] (the weights)."""
    rng = np.random.default_rng(seed)
    inputs = tf.cast(tf.constant(rng.normal(size=[rows, 6]), tf.float32), dtype)
    kernel = tf.constant(rng.normal(size=[6, 30]), tf.float32)
    bias = tf.constant(rng.normal(size=[30]), tf.float32)
    labels = tf.constant(np.where(np.arange(rows) % 3 == 1, 0, rng.integers(1, 30, rows)), tf.int32)
    return inputs, kernel, bias, labels, tf.cast(labels != 0, tf.float32)


def _loss_and_gradients(loss_sum, inputs, kernel, bias):
    """`loss_sum(inputs, kernel, bias)` and its gradients, under a non-unit scalar upstream gradient."""
    with tf.GradientTape() as tape:
        tape.watch([inputs, kernel, bias])
        loss = loss_sum(inputs, kernel, bias)
        scaled = loss / 7.0
    return loss, tape.gradient(scaled, [inputs, kernel, bias])


def _autodiff_loss_sum(labels):
    """`masked_loss_sum` of the softmax layer (float32), differentiated by TensorFlow."""
    def loss_sum(inputs, kernel, bias):
        logits = tf.nn.bias_add(tf.matmul(tf.cast(inputs, tf.float32), kernel), bias)
        return losses.masked_loss_sum(labels[tf.newaxis], logits[tf.newaxis])[0]
    return loss_sum


@pytest.mark.parametrize("rows, chunk_rows", [(10, 4), (8, 4), (3, 4), (0, 4)],
                         ids=["rows_not_a_multiple", "rows_a_multiple", "fewer_rows_than_a_chunk", "no_rows"])
def test_projected_cross_entropy_sum_equals_autodiff_of_masked_loss_sum(rows, chunk_rows):
    inputs, kernel, bias, labels, mask = _softmax_layer_problem(rows, tf.float32)
    loss, grads = _loss_and_gradients(
        lambda *weights: losses.projected_cross_entropy_sum(*weights, labels, mask, chunk_rows),
        inputs, kernel, bias)
    expected_loss, expected_grads = _loss_and_gradients(_autodiff_loss_sum(labels), inputs, kernel, bias)
    assert loss.shape == [] and loss.dtype == tf.float32
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-6)
    for name, grad, expected in zip(["inputs", "kernel", "bias"], grads, expected_grads):
        assert grad.shape == expected.shape and grad.dtype == tf.float32
        np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-6, err_msg=name)
    if rows:  # Padded rows get no gradient.
        assert not np.any(grads[0].numpy()[labels.numpy() == 0])


def test_projected_cross_entropy_sum_in_bfloat16_rounds_only_its_gemms():
    """bfloat16 inputs: the loss and gradients of the same bfloat16-rounded inputs and weights in
    float32, up to the rounding of the logits and of softmax - one_hot to bfloat16's 8-bit
    mantissa (relative error 2^-9 each; measured: loss 1e-4, gradients 0.5% of their largest
    entry); the weights' gradients stay float32."""
    inputs, kernel, bias, labels, mask = _softmax_layer_problem(50, tf.bfloat16, seed=1)
    kernel, bias = (tf.cast(tf.cast(weights, tf.bfloat16), tf.float32) for weights in (kernel, bias))
    loss, grads = _loss_and_gradients(
        lambda *weights: losses.projected_cross_entropy_sum(*weights, labels, mask, 16), inputs, kernel, bias)
    expected_loss, expected_grads = _loss_and_gradients(_autodiff_loss_sum(labels), inputs, kernel, bias)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-3)
    assert [grad.dtype for grad in grads] == [tf.bfloat16, tf.float32, tf.float32]
    for name, grad, expected in zip(["inputs", "kernel", "bias"], grads, expected_grads):
        expected = tf.cast(expected, tf.float32)
        np.testing.assert_allclose(tf.cast(grad, tf.float32), expected,
                                   atol=1e-2 * float(tf.reduce_max(tf.abs(expected))), err_msg=name)


def test_training_loss_skips_padding_and_equals_autodiff_of_the_logits(batch, monkeypatch):
    """`loss_sum` (the softmax layer on the non-padding rows, padded to a multiple of 8 rows
    with weight 0, in 3-row chunks) against `masked_loss_sum` of `logits`, differentiated by
    TensorFlow: loss, token count, every gradient."""
    monkeypatch.setattr(losses, "SOFTMAX_CHUNK_ROWS", 3)
    monkeypatch.setattr(losses, "ROW_MULTIPLE", 8)
    seq2seq = small_seq2seq()
    variables = seq2seq.training_model.trainable_variables
    labels = tf.roll(batch["target_in"], -1, axis=1) * tf.cast(batch["target_in"] > 0, tf.int32)
    results = []
    for loss_sum in (lambda: seq2seq.loss_sum(batch, labels),
                     lambda: losses.masked_loss_sum(labels, seq2seq.logits(batch))):
        with tf.GradientTape() as tape:
            loss, tokens = loss_sum()
            scaled = loss / 3.0
        results.append((loss, tokens, tape.gradient(scaled, variables)))
    (loss, tokens, grads), (expected_loss, expected_tokens, expected_grads) = results
    assert float(tokens) == float(expected_tokens) == np.count_nonzero(labels) < labels.shape.num_elements()
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-6)
    for variable, grad, expected in zip(variables, grads, expected_grads):
        np.testing.assert_allclose(tf.convert_to_tensor(grad), tf.convert_to_tensor(expected),
                                   rtol=1e-5, atol=1e-6, err_msg=variable.path)


def test_encoder_states_equal_the_keras_encoder(batch):
    seq2seq = small_seq2seq()
    states, memory = seq2seq._encode_cpu(batch["source"], False)
    expected_states = seq2seq.encoder(batch["source"])
    assert memory is None and len(states) == len(expected_states) == 2 * seq2seq.num_layers
    for state, expected in zip(states, expected_states):
        np.testing.assert_allclose(state, expected, atol=1e-6)


@pytest.mark.parametrize("attention", settings.ATTENTIONS)
def test_decoder_initial_states_come_from_the_cpu_encoder_and_equal_keras(batch, attention):
    seq2seq = small_seq2seq(attention=attention)
    states, constants = seq2seq.initial_states(batch["source"])
    if seq2seq.attention is None:
        expected, expected_constants = seq2seq.encoder(batch["source"]), []
    else:
        expected, memory = seq2seq._memory_encoder(batch["source"])
        expected_constants = seq2seq.attention.memory_states(memory, batch["source"])
    assert len(states) == len(expected) == seq2seq.num_states
    assert len(constants) == len(expected_constants) == seq2seq.num_constants
    for state, expected_state in zip(states + constants, list(expected) + expected_constants):
        np.testing.assert_allclose(state, expected_state, atol=1e-6)
    # Traced, the encoder is the CPU path's loop, not Keras' LSTM layers.
    graph = tf.function(seq2seq.initial_states).get_concrete_function(
        tf.TensorSpec([None, None], tf.int32)).graph
    assert not any("encoder_lstm" in op.name and "lstm_cell" in op.name for op in graph.get_operations())


def test_mixed_bfloat16_runs_in_bfloat16_with_float32_logits(batch):
    seq2seq = small_seq2seq("mixed_bfloat16")
    keras_logits = seq2seq.training_model(batch)
    cpu_logits = seq2seq.logits(batch)
    assert keras_logits.dtype == cpu_logits.dtype == tf.float32
    assert all(v.dtype == "float32" for v in seq2seq.training_model.weights)
    mask = (batch["target_in"] > 0).numpy()
    # Both compute in bfloat16 (8-bit mantissa): equal up to its rounding.
    np.testing.assert_allclose(cpu_logits.numpy()[mask], keras_logits.numpy()[mask], atol=0.05)
    labels = tf.roll(batch["target_in"], -1, axis=1) * tf.cast(batch["target_in"] > 0, tf.int32)
    variables = seq2seq.training_model.trainable_variables
    grads = []
    for loss_sum in (lambda: losses.masked_loss_sum(labels, seq2seq.training_model(batch)),
                     lambda: seq2seq.loss_sum(batch, labels)):
        with tf.GradientTape() as tape:
            loss, _ = loss_sum()
        grads.append(tape.gradient(loss, variables))
    for variable, step_grad, keras_grad in zip(variables, *grads):
        assert step_grad.dtype == tf.float32
        step_grad, keras_grad = tf.convert_to_tensor(step_grad), tf.convert_to_tensor(keras_grad)
        np.testing.assert_allclose(step_grad, keras_grad, atol=0.03 * float(tf.reduce_max(tf.abs(keras_grad))),
                                   err_msg=variable.path)


def test_dropout_is_applied_only_in_training(batch):
    seq2seq = small_seq2seq(dropout=0.5)
    inference = seq2seq.logits(batch, training=False)
    np.testing.assert_allclose(inference, seq2seq.logits(batch, training=False))
    assert not np.allclose(seq2seq.logits(batch, training=True), inference)
