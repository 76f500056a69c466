"""In-graph tokenization shared by training and the exported model.

Text is NFKC-normalised (tensorflow-text), whitespace is collapsed, and each
sentence is cut into words (runs of letters and digits) and single punctuation
marks. A token that followed a space carries the marker `▁` (as in
SentencePiece), so detokenization is exact: join the tokens and turn every `▁`
back into a space. `WordTokenizer` maps these words to ids (the paper's
scheme); `WordpieceTokenizer` cuts them further into WordPiece subwords.
Everything here is core TensorFlow or tensorflow-text ops that exist in
tf-text 2.12 (the version TF Serving links), loaded through `text_ops`, so
neither tokenizer imports all of tensorflow-text.
"""

import tensorflow as tf

from tf_seq2seq import settings
from tf_seq2seq import text_ops
from tf_seq2seq import vocab

SPACE = "▁"
SUFFIX = vocab.SUFFIX  # Marks a wordpiece that continues a word.
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
    text = text_ops.normalize_utf8(text, "NFKC")
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
    return text_ops.regex_split(text, _TOKEN, _TOKEN)


def count_words(sentences):
    """Counts the tokens `split_words` makes of a batch, tokenizing each distinct word once.

    After `normalize`, sentences are words separated by single spaces and
    `split_words` never joins text across a space, so splitting each distinct
    space-separated chunk (with its `▁`) gives the same tokens as splitting
    every sentence. Real text repeats most chunks, so the regex split runs on a
    small fraction of the batch.

    Args:
        sentences: string [batch].

    Returns:
        `(tokens, counts, lengths)`: the distinct tokens, string [U]; how
        often each occurs in the batch, int64 [U]; and each sentence's number
        of tokens, int64 [batch] (`split_words(sentences).row_lengths()`).
    """
    chunks = tf.strings.split(normalize(sentences), " ")  # An empty sentence has one "" chunk.
    distinct, chunk_ids, chunk_counts = tf.unique_with_counts(chunks.flat_values, out_idx=tf.int64)
    marked = tf.where(distinct == "", distinct, SPACE + distinct)
    pieces = text_ops.regex_split(marked, _TOKEN, _TOKEN)  # [distinct chunks, None]
    lengths = chunks.with_flat_values(tf.gather(pieces.row_lengths(), chunk_ids))
    tokens, token_ids = tf.unique(pieces.flat_values, out_idx=tf.int64)
    weights = tf.gather(tf.cast(chunk_counts, tf.int64), pieces.value_rowids())
    counts = tf.math.unsorted_segment_sum(weights, token_ids, tf.size(tokens, out_type=tf.int64))
    return tokens, counts, tf.reduce_sum(lengths, axis=1)


def join_words(tokens):
    """Inverse of `split_words`.

    Args:
        tokens: `tf.RaggedTensor` string [batch, None].

    Returns:
        string [batch].
    """
    text = tf.strings.reduce_join(tokens, axis=1)
    return tf.strings.strip(tf.strings.regex_replace(text, SPACE, " "))


def _lookup_table(vocab_path, to_ids):
    """A table read from a vocabulary file: token -> int64 id (`to_ids`) or id -> token.

    Unknown keys map to `vocab.UNK_ID` or `vocab.UNK`.
    """
    token = (tf.string, tf.lookup.TextFileIndex.WHOLE_LINE)
    line_id = (tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER)
    (key_dtype, key_index), (value_dtype, value_index) = (token, line_id) if to_ids else (line_id, token)
    return tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(vocab_path, key_dtype, key_index, value_dtype, value_index),
        default_value=vocab.UNK_ID if to_ids else vocab.UNK,
    )


class _VocabularyTokenizer(tf.Module):
    """What word and wordpiece tokenizers share: the vocabulary and detokenization.

    The vocabulary file is tracked as a SavedModel asset, so an exported model
    carries it. Ids follow `vocab`: 0 is padding, unknown tokens map to
    `vocab.UNK_ID`.
    """

    def __init__(self, vocab_path, name=None):
        """Args:
            vocab_path: a vocabulary file written by `vocab.write`.
            name: module name.
        """
        super().__init__(name=name)
        self.vocab_path = vocab_path
        self.vocab_size = len(vocab.read(vocab_path))
        self._id_to_token = _lookup_table(vocab_path, to_ids=False)

    def _token_text(self, tokens):
        """The text a token contributes to the sentence (string tensor -> same shape)."""
        return tokens

    def detokenize(self, ids, unknown_words=None):
        """Ids to sentences; padding, `<bos>` and `<eos>` are dropped.

        Args:
            ids: int32 [batch, time] or `tf.RaggedTensor` int32 [batch, None].
            unknown_words: optional string [batch, time] (with dense `ids`), a
                word for each position (`split_words`' tokens, `▁` or not).

        Returns:
            string [batch]. Unknown tokens read `<unk>`, or with
            `unknown_words` their position's word, after a space.
        """
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(ids)
        kept = (ids >= len(vocab.SPECIALS)) | (ids == vocab.UNK_ID)
        tokens = self._id_to_token.lookup(tf.cast(tf.ragged.boolean_mask(ids, kept), tf.int64))
        unknown = SPACE + vocab.UNK
        if unknown_words is not None:
            words = tf.ragged.boolean_mask(tf.RaggedTensor.from_tensor(unknown_words), kept).flat_values
            unknown = SPACE + tf.strings.regex_replace(words, "^" + SPACE, "")
        flat = tokens.flat_values
        return join_words(tokens.with_flat_values(tf.where(flat == vocab.UNK, unknown, self._token_text(flat))))

    def source_words(self, sentences):
        """The words of each sentence (`split_words`) and the word of each token `tokenize` gives.

        Args:
            sentences: string [batch].

        Returns:
            `(words, word_of_token)`: `tf.RaggedTensor` string [batch, None]
            (with `▁` markers), and `tf.RaggedTensor` int32 [batch, None]
            aligned with `tokenize(sentences)`: the index in `words` of each token.
        """
        words = split_words(sentences)
        return words, tf.ragged.range(tf.cast(words.row_lengths(), tf.int32))


class WordTokenizer(_VocabularyTokenizer):
    """The paper's scheme: one id per word or punctuation mark, the rest `<unk>`."""

    def __init__(self, vocab_path, name=None):
        super().__init__(vocab_path, name=name)
        self._token_to_id = _lookup_table(vocab_path, to_ids=True)

    def tokenize(self, sentences):
        """Sentences to ids.

        Args:
            sentences: string [batch].

        Returns:
            `tf.RaggedTensor` int32 [batch, None], no special tokens added.
        """
        return tf.cast(self._token_to_id.lookup(split_words(sentences)), tf.int32)


class WordpieceTokenizer(_VocabularyTokenizer):
    """Subwords: each word of `split_words` is cut into WordPiece pieces.

    Pieces after the first of a word start with `##` in the vocabulary;
    detokenization drops that marker and concatenates, so
    `detokenize(tokenize(x)) == normalize(x)` whenever every character of `x`
    is in the vocabulary. Uses tensorflow-text's wordpiece op and model
    (`text_ops.wordpiece_tokenize`), as its `FastWordpieceTokenizer` does.
    """

    def __init__(self, vocab_path, name=None):
        super().__init__(vocab_path, name=name)
        self._model = text_ops.wordpiece_model(vocab.read(vocab_path), SUFFIX, vocab.UNK)

    def tokenize(self, sentences):
        """Sentences to piece ids: string [batch] -> `tf.RaggedTensor` int32 [batch, None]."""
        words, pieces = self._pieces(sentences)
        return _by_sentence(words, pieces, pieces.values)

    def source_words(self, sentences):
        """As `_VocabularyTokenizer.source_words`: each piece's word is the word it was cut from."""
        words, pieces = self._pieces(sentences)
        word_of_piece = tf.cast(pieces.value_rowids(), tf.int64)  # Among all the batch's words.
        first_word = tf.gather(tf.cast(words.row_starts(), tf.int64),
                               tf.gather(words.value_rowids(), word_of_piece))
        return words, _by_sentence(words, pieces, tf.cast(word_of_piece - first_word, tf.int32))

    def _pieces(self, sentences):
        """`(words, pieces)`: `split_words(sentences)` and each word's piece ids, int32 [words, None]."""
        words = split_words(sentences)
        return words, text_ops.wordpiece_tokenize(words.flat_values, self._model)

    def _token_text(self, tokens):
        return tf.strings.regex_replace(tokens, "^" + SUFFIX, "")


def _by_sentence(words, pieces, values):
    """`values` (one per piece) as [batch, None]: a sentence's pieces are those of its words, in order."""
    return tf.RaggedTensor.from_row_splits(values, tf.gather(pieces.row_splits, words.row_splits), validate=False)


TOKENIZERS = dict(zip(settings.TOKENIZERS, (WordTokenizer, WordpieceTokenizer)))


def from_model_dir(model_dir, kind):
    """The `(source, target)` tokenizers of a model directory's vocabularies.

    Args:
        model_dir: the model directory.
        kind: `word` or `wordpiece` (`config.tokenizer`).
    """
    source_path, target_path = vocab.paths(model_dir)
    tokenizer = TOKENIZERS[kind]
    return tokenizer(source_path, name="source_tokenizer"), tokenizer(target_path, name="target_tokenizer")
