"""train_step: one batch's update, its gradients clipped and its loss normalised, and one all-reduce per step."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_seq2seq import model as model_lib
from tf_seq2seq import optimization, pipeline, tokenizer, train_step

from helpers import last_json, run_client, tiny_config


def one_batch(model_dir, config):
    source, target = tokenizer.from_model_dir(model_dir, config.tokenizer)
    pairs = tf.data.Dataset.from_tensor_slices({"source": ["Go.", "Hi."], "target": ["Va !", "Salut."]})
    return next(iter(pairs.apply(pipeline.tokenize(source, target, True)).apply(
        pipeline.bucket_by_length(2, 10))))


@pytest.mark.parametrize("clip_norm", [1e-4, 0.0])
def test_gradient_clipping_bounds_the_sgd_update(trained_model_dir, clip_norm):
    config = tiny_config("x", optimizer="sgd", learning_rate=1.0, clip_norm=clip_norm)
    seq2seq = model_lib.for_model_dir(config, trained_model_dir)
    optimizer = optimization.make_optimizer(config)
    optimizer.build(seq2seq.training_model.trainable_variables)
    batch = one_batch(trained_model_dir, config)
    step = train_step.make_train_step(
        tf.distribute.get_strategy(), seq2seq, optimizer, clip_norm,
        tf.data.Dataset.from_tensors(batch).element_spec,
    )
    before = [v.numpy().copy() for v in seq2seq.training_model.trainable_variables]
    metrics = step(batch)
    after = [v.numpy() for v in seq2seq.training_model.trainable_variables]
    update_norm = np.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(after, before)))
    grad_norm = float(metrics["grad_norm"])
    if clip_norm:
        assert grad_norm > clip_norm
        assert update_norm == pytest.approx(clip_norm, rel=1e-3)
    else:
        assert update_norm == pytest.approx(grad_norm, rel=1e-3)


def sgd_update(model_dir, **changes):
    """One unclipped SGD step (lr 1) on `one_batch`: (update of every weight, step metrics)."""
    config = tiny_config("x", optimizer="sgd", learning_rate=1.0, clip_norm=0.0, **changes)
    keras.utils.set_random_seed(config.seed)  # The same initial weights at every call.
    seq2seq = model_lib.for_model_dir(config, model_dir)
    optimizer = optimization.make_optimizer(config)
    optimizer.build(seq2seq.training_model.trainable_variables)
    batch = one_batch(model_dir, config)
    step = train_step.make_train_step(
        tf.distribute.get_strategy(), seq2seq, optimizer, 0.0,
        tf.data.Dataset.from_tensors(batch).element_spec, normalization=config.loss_normalization,
    )
    before = [v.numpy().copy() for v in seq2seq.training_model.trainable_variables]
    metrics = step(batch)
    return [v.numpy() - b for v, b in zip(seq2seq.training_model.trainable_variables, before)], metrics


def test_sentence_normalisation_steps_target_tokens_per_sentence_times_the_token_one(trained_model_dir):
    per_sentence, metrics = sgd_update(trained_model_dir, loss_normalization="sentences")
    per_token, _ = sgd_update(trained_model_dir, loss_normalization="tokens")
    tokens, sentences = float(metrics["target_tokens"]), float(metrics["sentences"])
    assert sentences == 2 and tokens > sentences  # "Va !" and "Salut." with <eos>.
    for a, b in zip(per_sentence, per_token):
        # The updates are differences of weights (|w| <= 0.16): a few float32 ulps of them apart.
        np.testing.assert_allclose(a, b * tokens / sentences, rtol=1e-4, atol=1e-7)


def test_one_gradient_all_reduce_per_step(same_length_corpus, tmp_path):
    counts = last_json(run_client("count_collectives", same_length_corpus, tmp_path / "m"))
    replicas, sparse_gradients = 2, 2  # The source and target embeddings.
    assert counts == {"dense": replicas, "sparse": replicas * sparse_gradients, "replicas": replicas}
