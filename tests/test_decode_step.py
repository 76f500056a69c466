"""decode_step.py: the prepared weights (kept as variables or read) and the one-step decoder against training."""

import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import decode_step
from tf_seq2seq import log_softmax

from helpers import small_seq2seq

pytestmark = pytest.mark.usefixtures("float32_policy")


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("attention", ["none", "bahdanau"])
def test_kept_encode_weights_are_prepared_variables_and_encode_exactly_like_read_ones(batch, policy, attention):
    seq2seq = small_seq2seq(policy, attention=attention)
    seq2seq.training_model(batch)
    kept = decode_step.encode_weights(seq2seq, keep=True)
    dtype = tf.float32 if policy == "float32" else tf.bfloat16
    assert all(isinstance(w, tf.Variable) and w.dtype == dtype for w in tf.nest.flatten(kept))
    # In float32 every LSTM weight is the layer's own variable (no copy); in bfloat16 a new one.
    own = [variable.value for variable in seq2seq.training_model.weights]
    shared = [w for w in tf.nest.flatten(kept.layers) if any(w is variable for variable in own)]
    assert len(shared) == (3 * seq2seq.num_layers if policy == "float32" else 0)
    states, constants = seq2seq.initial_states(batch["source"], tf.nest.map_structure(tf.convert_to_tensor, kept))
    expected_states, expected_constants = seq2seq.initial_states(batch["source"])
    for state, expected in zip(states + constants, expected_states + expected_constants):
        np.testing.assert_array_equal(tf.cast(state, tf.float32), tf.cast(expected, tf.float32))


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_kept_decode_weights_are_prepared_variables_and_step_exactly_like_read_ones(batch, policy):
    seq2seq = small_seq2seq(policy)
    seq2seq.training_model(batch)
    kept = decode_step.decode_weights(seq2seq, keep=True)
    dtype = tf.float32 if policy == "float32" else tf.bfloat16
    assert all(isinstance(w, tf.Variable) and w.dtype == dtype for w in tf.nest.flatten(kept))
    # Weights used as stored are the model's own variables (no copy): in float32
    # the embeddings, the LSTM biases and the projection; the stacked LSTM
    # kernels, and in bfloat16 every weight, are new variables.
    own = [variable.value for variable in seq2seq.training_model.weights]
    shared = [w for w in tf.nest.flatten(kept) if any(w is variable for variable in own)]
    assert len(shared) == (3 + seq2seq.num_layers if policy == "float32" else 0)
    states = seq2seq.encoder(batch["source"])
    ids = batch["target_in"][:, 0]
    kept_scores, kept_states = decode_step.step_fn(seq2seq, kept)(ids, states)
    scores, new_states = decode_step.step_fn(seq2seq)(ids, states)
    np.testing.assert_array_equal(kept_scores.values, scores.values)
    for kept_state, state in zip(kept_states, new_states):
        np.testing.assert_array_equal(tf.cast(kept_state, tf.float32), tf.cast(state, tf.float32))


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_decode_step_follows_the_teacher_forced_training_model(batch, policy):
    seq2seq = small_seq2seq(policy)
    expected = tf.nn.log_softmax(seq2seq.training_model(batch))
    step = decode_step.step_fn(seq2seq)
    states = seq2seq.encoder(batch["source"])
    mask = (batch["target_in"] > 0).numpy()
    for t in range(batch["target_in"].shape[1]):
        scores, states = step(batch["target_in"][:, t], states)
        log_probs = log_softmax.to_log_probs(scores)
        assert log_probs.dtype == tf.float32
        np.testing.assert_allclose(log_probs.numpy()[mask[:, t]], expected.numpy()[mask[:, t], t],
                                   atol=1e-5 if policy == "float32" else 0.1)
