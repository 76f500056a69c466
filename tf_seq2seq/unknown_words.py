"""Unknown-word replacement (Luong et al., 2015, "Addressing the Rare Word Problem in NMT").

A word-level model writes `<unk>` for every target word outside its
vocabulary. With attention, each `<unk>` can be replaced by the source word the
decoder attended to most when it wrote it: most out-of-vocabulary words are
names, numbers and rare nouns that a translation copies. The attention weights
come from the decoder reading the chosen output again with teacher forcing: the
decoder is deterministic given its prefix, so they are those of the search.

Attention runs over the encoder's input (truncated to `max_source_length`,
reversed if the model reads reversed sources); the position it peaks at is
mapped back to the sentence's own token order, and that token to the word it
belongs to. With WordPiece tokenizers a target `<unk>` stands for a whole word
that could not be cut into pieces, and it is replaced by the whole source word
of the attended piece.
"""

import tensorflow as tf

from tf_seq2seq import vocab


def attended_words(alignments, words, word_of_token, source_lengths, reverse):
    """The source word each output position attended to most.

    Args:
        alignments: float32 [batch, T, S], each output position's attention
            over the encoder input positions (0 on padding).
        words: `tf.RaggedTensor` string [batch, None], each sentence's words
            (`tokenizer.split_words`).
        word_of_token: `tf.RaggedTensor` int32 [batch, None], the index in
            `words` of each source token, in the sentence's order
            (`source_words` of the tokenizer).
        source_lengths: int32 [batch], the tokens the encoder read (after truncation).
        reverse: whether the encoder read the tokens reversed.

    Returns:
        string [batch, T]: the attended word ("" for a sentence without words).
    """
    position = tf.argmax(alignments, axis=-1, output_type=tf.int32)
    last = tf.maximum(source_lengths - 1, 0)[:, tf.newaxis]
    if reverse:
        position = last - position
    position = tf.minimum(tf.maximum(position, 0), last)
    # One padding column each: a batch of empty sentences still has a column to gather.
    token_words = tf.pad(word_of_token.to_tensor(), [[0, 0], [0, 1]])
    sentence_words = tf.pad(words.to_tensor(), [[0, 0], [0, 1]])
    return tf.gather(sentence_words, tf.gather(token_words, position, batch_dims=1), batch_dims=1)


def hypothesis_words(members, source_tokenizer, sentences, source_ids, ids, reverse):
    """The source word each token of the hypotheses attended to most (`attended_words`).

    One teacher-forced pass of the decoders over the hypotheses gives the
    attention of the search (an ensemble's: its members' mean).

    Args:
        members: list of `model.Seq2Seq` with attention (one, or an ensemble).
        source_tokenizer: the source `tokenizer` (its `source_words`).
        sentences: string [batch].
        source_ids: int32 [batch, S], their encoder input
            (`translator.Translator.encode`'s).
        ids: int32 [batch, n, T], the hypotheses in vocabulary ids
            (`decoding.Hypotheses.ids`).
        reverse: whether the encoders read the sources reversed.

    Returns:
        string [batch, n, T].
    """
    shape = tf.shape(ids)
    flat = tf.reshape(ids, [-1, shape[2]])
    features = {
        "source": tf.repeat(source_ids, shape[1], axis=0),
        "target_in": tf.concat([tf.fill([tf.shape(flat)[0], 1], vocab.BOS_ID), flat[:, :-1]], 1),
    }
    alignments = tf.add_n([member.alignment_model(features) for member in members]) / len(members)
    # Each sentence's hypotheses one after another: [batch, n x T, S].
    alignments = tf.reshape(alignments, [shape[0], shape[1] * shape[2], tf.shape(alignments)[2]])
    words, word_of_token = source_tokenizer.source_words(sentences)
    source_lengths = tf.reduce_sum(tf.cast(source_ids != vocab.PAD_ID, tf.int32), axis=1)
    return tf.reshape(attended_words(alignments, words, word_of_token, source_lengths, reverse), shape)
