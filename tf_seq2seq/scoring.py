"""Scoring given translations: the log-probability a model (or an ensemble) gives each target token.

The decoder reads the target with teacher forcing (`model.Seq2Seq.logits`,
the training computation), so one pass scores a whole translation: the
log-prob of each of its tokens then `<eos>`, normalised over the whole target
vocabulary exactly as beam search normalises its candidates
(`log_softmax.to_log_probs`). An ensemble's token log-prob is the mean of its
members', as a decoding step averages them; a translation's score is the sum
over its tokens, so a hypothesis that beam search returns scores here what the
search reported for it.
"""

import tensorflow as tf

from tf_seq2seq import decoding
from tf_seq2seq import log_softmax
from tf_seq2seq import vocab


def token_log_probs(members, source_ids, target_in, labels):
    """The log-prob of each target token given the source and the tokens before it.

    Args:
        members: list of `model.Seq2Seq` sharing the target vocabulary (one
            model, or an ensemble).
        source_ids: int32 [B, S], the encoder input (`translator.Translator.
            encode`'s: truncated, reversed if the model reads reversed
            sources), right-padded with `vocab.PAD_ID`.
        target_in: int32 [B, T], `<bos>` then the target tokens, right-padded.
        labels: int32 [B, T], the target tokens then `<eos>`, right-padded
            with `vocab.PAD_ID`.

    Returns:
        float32 [B, T]: the members' mean log-prob of each label, 0 on padding.
    """
    features = {"source": source_ids, "target_in": target_in}
    flat_labels = tf.reshape(labels, [-1])
    member_log_probs = []
    for member in members:
        logits = member.logits(features)
        log_probs = log_softmax.to_log_probs(log_softmax.Logits(tf.reshape(logits, [-1, tf.shape(logits)[-1]])))
        member_log_probs.append(tf.gather(log_probs, flat_labels, batch_dims=1))
    mean = tf.add_n(member_log_probs) / len(member_log_probs)
    return tf.reshape(tf.where(flat_labels != vocab.PAD_ID, mean, 0.0), tf.shape(labels))


def score(members, source_ids, target_in, labels, max_length, length_penalty):
    """Scores given translations as beam search scores its own (`token_log_probs`).

    Args:
        members: list of `model.Seq2Seq` (one model, or an ensemble).
        source_ids: int32 [B, S], the encoder input (`translator.Translator.encode`'s).
        target_in: `tf.RaggedTensor` int32 [B, None], `<bos>` then each
            translation's tokens (`pipeline.encode_target`).
        labels: `tf.RaggedTensor` int32 [B, None], the tokens then `<eos>`.
        max_length: the most tokens scored per translation (`max_decode_length`).
        length_penalty: the search's GNMT length penalty (`decoding.length_normalizer`).

    Returns:
        A dict: `log_probs` float32 [B], the summed log-prob of the
        translation's tokens and `<eos>`; `lengths` int32 [B], how many tokens
        that is; `normalized_scores` float32 [B], `log_probs` normalised with
        the length penalty as beam search ranks; `token_log_probs` float32 [B,
        T], each token's log-prob, 0 after its end; `truncated` bool [B],
        whether a translation had more than `max_length` tokens (its first
        `max_length` are scored, as a search cut there would be).
    """
    full_lengths = tf.cast(labels.row_lengths(), tf.int32)
    target_in, labels = target_in[:, :max_length], labels[:, :max_length]
    per_token = token_log_probs(members, source_ids, target_in.to_tensor(), labels.to_tensor())
    log_probs = tf.reduce_sum(per_token, axis=1)
    lengths = tf.cast(labels.row_lengths(), tf.int32)
    return {
        "log_probs": log_probs,
        "lengths": lengths,
        "normalized_scores": log_probs / decoding.length_normalizer(lengths, length_penalty),
        "token_log_probs": per_token,
        "truncated": full_lengths > lengths,
    }
