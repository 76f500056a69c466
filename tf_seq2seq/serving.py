"""The exported translator: strings in, strings out, beam search in the graph.

`Translator` bundles the tokenizers, the trained `model.Seq2Seq` and
`decoding.beam_search`. It is used in-process by `evaluate` and written by
`export` as a SavedModel in TF Serving's layout (`EXPORT_DIR/VERSION/`) with
two signatures:

* `serving_default`: `sentences` string [None] -> `translations` string
  [None], `scores` float32 [None] (summed log-prob), `truncated` bool [None],
  default beam size.
* `beam_search`: `sentences` string [None], `beam_size` int32 [],
  `num_hypotheses` int32 [] -> `translations` string [None, None], `scores`
  float32 [None, None], best first, `truncated` bool [None].
* `encode`: `sentences` string [None] -> `vectors` float32 [None, D], the
  encoder's final states (D = 2 x layers x units).

Work per request is bounded: more than `max_batch_size` sentences is an
InvalidArgument error, and inputs are cut to `max_source_length` tokens.

The graphs use only core TensorFlow and tensorflow-text ops and need no XLA.
Load them after `import tensorflow_text`.
"""

import os
import re
import shutil

import keras
import tensorflow as tf
from absl import logging

from tf_seq2seq import config as config_lib
from tf_seq2seq import decoding
from tf_seq2seq import model as model_lib
from tf_seq2seq import pipeline
from tf_seq2seq import tokenizer as tokenizer_lib
from tf_seq2seq.errors import Seq2SeqError

SENTENCES = tf.TensorSpec([None], tf.string, name="sentences")
BEAM_SIZE = tf.TensorSpec([], tf.int32, name="beam_size")
NUM_HYPOTHESES = tf.TensorSpec([], tf.int32, name="num_hypotheses")
# Decoding may emit this many tokens beyond `max_decode_ratio` x source length.
DECODE_LENGTH_SLACK = 10


class Translator(tf.Module):
    """Tokenize -> (reverse) -> encode -> beam search -> detokenize, in one graph."""

    def __init__(self, seq2seq, source_tokenizer, target_tokenizer, config):
        """Args:
            seq2seq: a trained `model.Seq2Seq`.
            source_tokenizer: `tokenizer.WordTokenizer` of the source vocabulary.
            target_tokenizer: `tokenizer.WordTokenizer` of the target vocabulary.
            config: the model's `config.Config` (reverse_source,
                max_source_length, beam_size, max_decode_ratio, max_decode_length).
        """
        super().__init__(name="translator")
        self._seq2seq = seq2seq
        self.model = seq2seq.training_model
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self._reverse_source = config.reverse_source
        self._max_source_length = config.max_source_length
        self._beam_size = config.beam_size
        self._max_decode_ratio = config.max_decode_ratio
        self._max_decode_length = config.max_decode_length
        self._max_batch_size = config.max_batch_size

    def encode(self, sentences):
        """Tokenizes, truncates and encodes a batch of source sentences.

        Args:
            sentences: string [batch], at most `max_batch_size` of them.

        Returns:
            `(source_ids, states, token_counts)`: the padded encoder input int32
            [batch, S + 1] (one extra padding column keeps the time axis
            non-empty), the encoder's final states (list of 2 x num_layers
            float [batch, units]) and each sentence's token count before
            truncation, int32 [batch].

        Raises:
            tf.errors.InvalidArgumentError: if the batch is too large.
        """
        tf.debugging.assert_less_equal(
            tf.size(sentences), self._max_batch_size,
            message=f"batch larger than max_batch_size={self._max_batch_size}",
        )
        ids = self.source_tokenizer.tokenize(sentences)
        source = pipeline.prepare_source(ids, self._reverse_source, self._max_source_length)
        source_ids = tf.pad(source.to_tensor(), [[0, 0], [0, 1]])
        return source_ids, self._seq2seq.encoder(source_ids), tf.cast(ids.row_lengths(), tf.int32)

    def search(self, sentences, beam_size, num_hypotheses):
        """Translates a batch with beam search.

        Args:
            sentences: string [batch].
            beam_size: int32 scalar >= 1 (1 = greedy).
            num_hypotheses: int32 scalar in [1, beam_size].

        Returns:
            A dict: `translations` string [batch, num_hypotheses] and `scores`
            float32 [batch, num_hypotheses] (summed log-probs, best first; an
            input without words translates to "" with score 0), and
            `truncated` bool [batch], whether the input had more than
            `max_source_length` tokens and was cut.
        """
        tf.debugging.assert_greater_equal(beam_size, 1, message="beam_size must be >= 1")
        tf.debugging.assert_greater_equal(
            num_hypotheses, 1, message="num_hypotheses must be >= 1"
        )
        tf.debugging.assert_less_equal(
            num_hypotheses, beam_size, message="num_hypotheses must be <= beam_size"
        )
        source_ids, states, token_counts = self.encode(sentences)
        ids, scores = decoding.beam_search(
            self._seq2seq.decode_step, states, beam_size, self._decode_length(source_ids)
        )
        ids, scores = ids[:, :num_hypotheses], scores[:, :num_hypotheses]
        batch, max_length = tf.shape(ids)[0], tf.shape(ids)[2]
        texts = self.target_tokenizer.detokenize(tf.reshape(ids, [-1, max_length]))
        texts = tf.reshape(texts, [batch, num_hypotheses])
        empty = (token_counts == 0)[:, tf.newaxis]
        return {
            "translations": tf.where(empty, "", texts),
            "scores": tf.where(empty, 0.0, scores),
            "truncated": token_counts > self._max_source_length,
        }

    def _decode_length(self, source_ids):
        """The most target tokens to generate for a padded source batch [B, S]."""
        source_length = tf.cast(tf.shape(source_ids)[1] - 1, tf.float32)
        length = tf.cast(tf.math.ceil(self._max_decode_ratio * source_length), tf.int32)
        return tf.minimum(length + DECODE_LENGTH_SLACK, self._max_decode_length)

    @tf.function(input_signature=[SENTENCES])
    def serve(self, sentences):
        """The `serving_default` signature (default beam size, best hypothesis)."""
        outputs = self.search(sentences, self._beam_size, 1)
        return {**outputs, "translations": outputs["translations"][:, 0],
                "scores": outputs["scores"][:, 0]}

    @tf.function(input_signature=[SENTENCES, BEAM_SIZE, NUM_HYPOTHESES])
    def beam_search(self, sentences, beam_size, num_hypotheses):
        """The `beam_search` signature (n-best lists)."""
        return self.search(sentences, beam_size, num_hypotheses)

    @tf.function(input_signature=[SENTENCES])
    def encode_signature(self, sentences):
        """The `encode` signature: the paper's fixed-size sentence representation.

        Returns:
            `{"vectors": float32 [batch, 2 * num_layers * units]}`: the
            encoder's final `(h, c)` of every layer, concatenated.
        """
        _, states, _ = self.encode(sentences)
        return {"vectors": tf.cast(tf.concat(states, axis=1), tf.float32)}


def translator_from_model_dir(config, model_dir):
    """A `Translator` with a model directory's vocabularies and latest weights.

    Returns:
        `(translator, checkpoint_path)`.
    """
    seq2seq = model_lib.for_model_dir(config, model_dir)
    checkpoint = seq2seq.restore(model_dir)
    source_tokenizer, target_tokenizer = tokenizer_lib.from_model_dir(model_dir, config.tokenizer)
    return Translator(seq2seq, source_tokenizer, target_tokenizer, config), checkpoint


def export_model_dir(config, model_dir, export_dir):
    """Exports a model directory's latest checkpoint; returns the version path.

    The export's config (the model's, with decoding overrides) is written to
    the version's `assets.extra/config.json`.
    """
    translator, _ = translator_from_model_dir(config, model_dir)
    return export(translator, export_dir, config)


def translate_batches(translate_fn, sentences, batch_size):
    """Runs `translate_fn` over `sentences` in batches, logging progress.

    Args:
        translate_fn: function from a list of str to a sequence of results.
        sentences: list of str.
        batch_size: sentences per call.

    Returns:
        The concatenated results, one per sentence.
    """
    results = []
    for start in range(0, len(sentences), batch_size):
        results.extend(translate_fn(sentences[start : start + batch_size]))
        logging.log_every_n_seconds(
            logging.INFO, "Translated %d/%d sentences", 10, len(results), len(sentences)
        )
    return results


def translate_texts(beam_search_fn, sentences, beam_size, num_hypotheses, batch_size):
    """Translates a list of sentences with a `beam_search` function or signature.

    Args:
        beam_search_fn: `Translator.beam_search` or a loaded SavedModel's
            `signatures["beam_search"]`.
        sentences: list of str.
        beam_size: beam size.
        num_hypotheses: translations per sentence, <= beam_size.
        batch_size: sentences per call.

    Returns:
        One list per sentence of `num_hypotheses` `(translation, score)` pairs,
        best first.

    Raises:
        Seq2SeqError: if the model rejects the request (e.g. num_hypotheses > beam).
    """

    def translate(batch):
        outputs = beam_search_fn(
            sentences=tf.constant(batch, tf.string),
            beam_size=tf.constant(beam_size, tf.int32),
            num_hypotheses=tf.constant(num_hypotheses, tf.int32),
        )
        texts, scores = outputs["translations"].numpy(), outputs["scores"].numpy()
        return [
            [(t.decode("utf-8"), float(s)) for t, s in zip(row_texts, row_scores)]
            for row_texts, row_scores in zip(texts, scores)
        ]

    try:
        return translate_batches(translate, sentences, batch_size)
    except tf.errors.InvalidArgumentError as e:
        raise Seq2SeqError(f"the model rejected the request: {e.message.splitlines()[0]}") from None


def saved_config(path):
    """The `config.Config` stored in an exported version's `assets.extra/`."""
    return config_lib.load(os.path.join(path, "assets.extra"))


def next_version(export_dir):
    """The next free integer version under `export_dir` (1 if there is none)."""
    if not os.path.isdir(export_dir):
        return 1
    versions = [int(name) for name in os.listdir(export_dir) if re.fullmatch(r"\d+", name)]
    return max(versions, default=0) + 1


def export(translator, export_dir, config):
    """Writes `translator` as SavedModel version `export_dir/N/` (N = next free).

    The SavedModel is written to a temporary directory and renamed into place,
    so TF Serving never sees a partial version.

    Args:
        translator: a `Translator`.
        export_dir: the model's base directory, e.g. `saved_models/NAME`.
        config: the translator's `config.Config`, saved as
            `assets.extra/config.json` for clients and provenance.

    Returns:
        The path of the new version directory.
    """
    version = next_version(export_dir)
    final_path = os.path.join(export_dir, str(version))
    temporary_path = os.path.join(export_dir, f".tmp-{version}")
    shutil.rmtree(temporary_path, ignore_errors=True)
    archive = keras.export.ExportArchive()
    archive.track(translator.model)
    archive.track(translator)
    for name, function in (
        ("serving_default", translator.serve),
        ("beam_search", translator.beam_search),
        ("encode", translator.encode_signature),
    ):
        function.get_concrete_function()
        archive.add_endpoint(name, function)
    archive.write_out(temporary_path, verbose=False)
    config.save(os.path.join(temporary_path, "assets.extra"))
    if os.path.exists(final_path):
        raise Seq2SeqError(f"{final_path} appeared while exporting; not overwriting it")
    os.rename(temporary_path, final_path)
    return final_path


def load(path):
    """Loads an exported translator SavedModel (`tf.saved_model.load`).

    Raises:
        Seq2SeqError: if `path` is not a SavedModel directory.
    """
    import tensorflow_text  # noqa: F401  Registers the ops the graph uses.

    if not tf.saved_model.contains_saved_model(path):
        raise Seq2SeqError(f"no SavedModel at {path}")
    return tf.saved_model.load(path)
