"""The in-process translator: scores are log-probs, n-best order, bounded and empty inputs."""

import pytest
import tensorflow as tf

from tf_seq2seq import config as config_lib
from tf_seq2seq import decoding, vocab
from tf_seq2seq import loading

from helpers import SOURCES, TARGETS


@pytest.fixture(scope="module")
def translator(trained_model_dir):
    """The tiny model's in-process `Translator`."""
    return loading.from_model_dir(config_lib.load(trained_model_dir), trained_model_dir)[0]


def test_scores_are_the_teacher_forced_log_probs(translator):
    outputs = translator.serve(tf.constant(SOURCES[:3]))
    from tf_seq2seq import pipeline

    source = pipeline.encode_source(translator.source_tokenizer, tf.constant(SOURCES[:3]), True)
    target_in, target_out = pipeline.encode_target(translator.target_tokenizer, tf.constant(TARGETS[:3]))
    logits = translator.keras_models[0](
        {"source": source.to_tensor(), "target_in": target_in.to_tensor()}, training=False
    )
    log_probs = tf.nn.log_softmax(logits)
    labels = target_out.to_tensor()
    picked = tf.gather(log_probs, labels, batch_dims=2) * tf.cast(labels != 0, tf.float32)
    expected = tf.reduce_sum(picked, axis=1).numpy()
    assert outputs["scores"].numpy() == pytest.approx(expected, abs=1e-3)


def test_beam_search_rejects_more_hypotheses_than_beams(translator):
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_hypotheses must be <= beam_size"):
        translator.beam_search(tf.constant(["Hi."]), tf.constant(2), tf.constant(3))


def test_empty_batch_and_empty_sentences_give_well_formed_outputs(translator):
    empty = translator.serve(tf.constant([], tf.string))
    assert empty["translations"].shape == (0,) and empty["scores"].shape == (0,)
    blank = translator.serve(tf.constant(["", "  \t "]))
    assert blank["translations"].numpy().tolist() == [b"", b""]
    assert blank["scores"].numpy().tolist() == [0.0, 0.0]


def test_long_inputs_are_truncated_and_said_so(translator):
    long_input = " ".join(["Go."] * 40)  # 80 tokens > max_source_length (50).
    outputs = translator.serve(tf.constant([long_input, "Go."]))
    assert outputs["truncated"].numpy().tolist() == [True, False]
    assert outputs["translations"].numpy()[1] == b"Va !"


def test_batches_over_the_limit_are_rejected(translator):
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_batch_size=256"):
        translator.serve(tf.constant(["Go."] * 257))


def teacher_forced_log_prob(seq2seq, source_ids, target_ids):
    """The summed log-prob the model gives `target_ids` (ending in <eos>) for `source_ids`.

    Args:
        seq2seq: a `model.Seq2Seq`.
        source_ids: int32 [1, S], the encoder input.
        target_ids: list of int, the output tokens up to and including <eos>.
    """
    target_in = tf.constant([[vocab.BOS_ID] + target_ids[:-1]])
    logits = seq2seq.training_model({"source": source_ids, "target_in": target_in})
    log_probs = tf.nn.log_softmax(logits)[0]
    return float(tf.reduce_sum(tf.gather(log_probs, target_ids, batch_dims=1)))


def test_nbest_is_sorted_by_normalized_score_and_scores_are_teacher_forced_log_probs(
    trained_model_dir,
):
    config = config_lib.load(trained_model_dir).replace(length_penalty=0.6)
    translator, _ = loading.from_model_dir(config, trained_model_dir)
    source_ids, states, _, _ = translator.encode(tf.constant(SOURCES))
    found = decoding.beam_search(translator.step_fn, states, 4, 20, 0.6)
    assert (found.scores[:, :-1] >= found.scores[:, 1:]).numpy().all()
    for sentence, (rows, log_probs, scores) in enumerate(zip(*(t.numpy() for t in found))):
        for ids, log_prob, score in zip(rows, log_probs, scores):
            ids = list(ids[: list(ids).index(vocab.EOS_ID) + 1])
            expected = teacher_forced_log_prob(translator.members[0], source_ids[sentence : sentence + 1], ids)
            assert log_prob == pytest.approx(expected, abs=1e-3)
            assert score == pytest.approx(log_prob / ((5 + len(ids)) / 6) ** 0.6, abs=1e-3)
    outputs = translator.beam_search(tf.constant(SOURCES), tf.constant(4), tf.constant(4))
    assert outputs["scores"].numpy() == pytest.approx(found.log_probs.numpy(), abs=1e-4)
    assert outputs["normalized_scores"].numpy() == pytest.approx(found.scores.numpy(), abs=1e-4)


def test_kept_decode_weights_decode_the_same(trained_model_dir):
    config = config_lib.load(trained_model_dir)
    outputs = []
    for keep in (False, True):
        translator = loading.from_model_dirs(config, [trained_model_dir], keep_decode_weights=keep)[0]
        found = translator.beam_search(tf.constant(SOURCES), tf.constant(3), tf.constant(3))
        outputs.append({name: found[name].numpy().tolist() for name in ("translations", "scores")})
    assert outputs[1] == outputs[0]
