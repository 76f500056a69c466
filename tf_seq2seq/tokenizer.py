"""In-graph word tokenization shared by training and the exported model.

Text is NFKC-normalised (tensorflow-text), whitespace is collapsed, and each
sentence is cut into words (runs of letters and digits) and single punctuation
marks. A token that followed a space carries the marker `▁` (as in
SentencePiece), so detokenization is exact: join the tokens and turn every `▁`
back into a space. Everything here is core TensorFlow or tensorflow-text ops
that exist in tf-text 2.12 (the version TF Serving links).
"""

import tensorflow as tf
import tensorflow_text as tf_text

from tf_seq2seq import vocab

SPACE = "▁"
_TOKEN = rf"{SPACE}?[\p{{L}}\p{{N}}]+|{SPACE}?[^\p{{L}}\p{{N}}{SPACE}]"


def normalize(sentences):
    """Normalises raw text before splitting.

    Args:
        sentences: string [batch], any bytes.

    Returns:
        string [batch]: valid UTF-8 (bad bytes replaced), NFKC-normalised,
        single spaces, no leading or trailing space, no literal `▁`.
    """
    text = tf.strings.unicode_transcode(sentences, "UTF-8", "UTF-8", errors="replace")
    text = tf_text.normalize_utf8(text, "NFKC")
    text = tf.strings.regex_replace(text, SPACE, "_")
    return tf.strings.strip(tf.strings.regex_replace(text, r"\s+", " "))


def split_words(sentences):
    """Splits sentences into word and punctuation tokens.

    Args:
        sentences: string [batch].

    Returns:
        `tf.RaggedTensor` string [batch, None]; tokens after a space (and the
        first token) start with `▁`. An empty sentence has no tokens.
    """
    text = tf.strings.regex_replace(normalize(sentences), r"(?:^| )(\S)", SPACE + r"\1")
    return tf_text.regex_split(text, _TOKEN, _TOKEN)


def join_words(tokens):
    """Inverse of `split_words`.

    Args:
        tokens: `tf.RaggedTensor` string [batch, None].

    Returns:
        string [batch].
    """
    text = tf.strings.reduce_join(tokens, axis=1)
    return tf.strings.strip(tf.strings.regex_replace(text, SPACE, " "))


class WordTokenizer(tf.Module):
    """Maps sentences to word ids and back with a fixed vocabulary file.

    The vocabulary file is tracked as a SavedModel asset, so an exported model
    carries it. Ids follow `vocab`: 0 is padding, unknown words map to
    `vocab.UNK_ID`.
    """

    def __init__(self, vocab_path, name=None):
        """Builds the lookup tables.

        Args:
            vocab_path: a vocabulary file written by `vocab.write`.
            name: module name.
        """
        super().__init__(name=name)
        self.vocab_size = len(vocab.read(vocab_path))
        whole_line = tf.lookup.TextFileIndex.WHOLE_LINE
        line_number = tf.lookup.TextFileIndex.LINE_NUMBER
        self._token_to_id = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(
                vocab_path, tf.string, whole_line, tf.int64, line_number
            ),
            default_value=vocab.UNK_ID,
        )
        self._id_to_token = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(
                vocab_path, tf.int64, line_number, tf.string, whole_line
            ),
            default_value=vocab.UNK,
        )

    def tokenize(self, sentences):
        """Sentences to ids.

        Args:
            sentences: string [batch].

        Returns:
            `tf.RaggedTensor` int32 [batch, None], no special tokens added.
        """
        ids = self._token_to_id.lookup(split_words(sentences))
        return tf.cast(ids, tf.int32)

    def detokenize(self, ids):
        """Ids to sentences; padding, `<bos>` and `<eos>` are dropped.

        Args:
            ids: int32 [batch, time] or `tf.RaggedTensor` int32 [batch, None].

        Returns:
            string [batch]. Unknown words read `<unk>`.
        """
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(ids)
        ids = tf.ragged.boolean_mask(ids, (ids >= len(vocab.SPECIALS)) | (ids == vocab.UNK_ID))
        tokens = self._id_to_token.lookup(tf.cast(ids, tf.int64))
        tokens = tf.ragged.map_flat_values(
            lambda t: tf.where(t == vocab.UNK, SPACE + vocab.UNK, t), tokens
        )
        return join_words(tokens)


def from_model_dir(model_dir):
    """The `(source, target)` tokenizers of a model directory's vocabularies."""
    source_path, target_path = vocab.paths(model_dir)
    return WordTokenizer(source_path, name="source_tokenizer"), WordTokenizer(
        target_path, name="target_tokenizer"
    )
