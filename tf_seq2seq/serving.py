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
  float32 [None, None] (summed log-probs), `normalized_scores` float32
  [None, None] (the ranking, with the export's length penalty), best first,
  `truncated` bool [None].
* `encode`: `sentences` string [None] -> `vectors` float32 [None, D], the
  encoder's final states (D = 2 x layers x units).
* `beam_search_xla` (only with `jit_compile`): as `beam_search`, with the
  integer decoding loop compiled by XLA at fixed shapes (batch padded to a
  power of two, target length to its maximum); tokenizing and encoding stay
  outside XLA.

Work per request is bounded: more than `max_batch_size` sentences is an
InvalidArgument error, and inputs are cut to `max_source_length` tokens.

Each version carries `assets.extra/config.json` (the export's config) and
`assets.extra/tf_serving_warmup_requests` (`predict_requests`). The warm-up
file leaves `beam_search_xla` out unless asked (`warmup_xla`): TF Serving
disables XLA unless started with `--xla_cpu_compilation_enabled`, and one
failed warm-up request fails the whole version load.

The default graphs use only core TensorFlow and tensorflow-text ops and need
no XLA. Load them after `import tensorflow_text`.
"""

import math
import os
import re
import shutil
import sys

import keras
import tensorflow as tf
import tqdm

from tf_seq2seq import attention
from tf_seq2seq import config as config_lib
from tf_seq2seq import decoding
from tf_seq2seq import model as model_lib
from tf_seq2seq import pipeline
from tf_seq2seq import predict_requests
from tf_seq2seq import tokenizer as tokenizer_lib
from tf_seq2seq import vocab
from tf_seq2seq.errors import Seq2SeqError

SENTENCES = tf.TensorSpec([None], tf.string, name="sentences")
BEAM_SIZE = tf.TensorSpec([], tf.int32, name="beam_size")
NUM_HYPOTHESES = tf.TensorSpec([], tf.int32, name="num_hypotheses")
# Decoding may emit this many tokens beyond `max_decode_ratio` x source length.
DECODE_LENGTH_SLACK = 10


class Translator(tf.Module):
    """Tokenize -> (reverse) -> encode -> beam search -> detokenize, in one graph.

    Several models sharing vocabularies translate as an ensemble: each encodes
    the source, and beam search averages their per-step log-probs.
    """

    def __init__(self, models, source_tokenizer, target_tokenizer, config):
        """Args:
            models: a trained `model.Seq2Seq`, or a list of them (an ensemble).
            source_tokenizer: `tokenizer.WordTokenizer` of the source vocabulary.
            target_tokenizer: `tokenizer.WordTokenizer` of the target vocabulary.
            config: the (first) model's `config.Config` (reverse_source,
                max_source_length, beam_size, length_penalty, max_decode_ratio,
                max_decode_length, max_batch_size).
        """
        super().__init__(name="translator")
        self.members = list(models) if isinstance(models, (list, tuple)) else [models]
        self.keras_models = [member.training_model for member in self.members]
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self._reverse_source = config.reverse_source
        self._max_source_length = config.max_source_length
        self._beam_size = config.beam_size
        self._length_penalty = config.length_penalty
        self._max_decode_ratio = config.max_decode_ratio
        self._max_decode_length = config.max_decode_length
        self._max_batch_size = config.max_batch_size

    @property
    def step_fn(self):
        """A new `beam_search` step function (an ensemble's averages its members' log-probs).

        Each read reads the weights (`model.Seq2Seq.decode_step_fn`): read it
        once per search, outside the loop.
        """
        if len(self.members) == 1:
            return self.members[0].decode_step_fn()
        return decoding.ensemble_step_fn(
            [member.decode_step_fn() for member in self.members],
            [member.num_states for member in self.members],
        )

    def encode(self, sentences):
        """Tokenizes, truncates and encodes a batch of source sentences.

        Args:
            sentences: string [batch], at most `max_batch_size` of them.

        Returns:
            `(source_ids, states, token_counts)`: the padded encoder input int32
            [batch, S + 1] (one extra padding column keeps the time axis
            non-empty), the decoders' initial states (`model.Seq2Seq.
            initial_states` of each member, concatenated: the encoders' final
            states, float [batch, units], and any attention memory, rank 3)
            and each sentence's token count before truncation, int32 [batch].

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
        states = [state for member in self.members for state in member.initial_states(source_ids)]
        return source_ids, states, tf.cast(ids.row_lengths(), tf.int32)

    def search(self, sentences, beam_size, num_hypotheses, jit_compile=False):
        """Translates a batch with beam search.

        Args:
            sentences: string [batch].
            beam_size: int32 scalar >= 1 (1 = greedy).
            num_hypotheses: int32 scalar in [1, beam_size].
            jit_compile: decode with the XLA-compiled loop (`decode_xla`).

        Returns:
            A dict: `translations` string [batch, num_hypotheses], `scores`
            float32 [batch, num_hypotheses] (summed log-probs) and
            `normalized_scores` (length-normalised, the ranking), best first;
            an input without words translates to "" with scores 0; and
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
        max_length = self._decode_length(tf.shape(source_ids)[1] - 1)
        if jit_compile:
            found = self._decode_padded(states, beam_size, max_length)
        else:
            found = decoding.beam_search(
                self.step_fn, states, beam_size, max_length, self._length_penalty
            )
        texts = self._detokenize(found.ids[:, :num_hypotheses])
        empty = (token_counts == 0)[:, tf.newaxis]
        return {
            "translations": tf.where(empty, "", texts),
            "scores": tf.where(empty, 0.0, found.log_probs[:, :num_hypotheses]),
            "normalized_scores": tf.where(empty, 0.0, found.scores[:, :num_hypotheses]),
            "truncated": token_counts > self._max_source_length,
        }

    def _detokenize(self, ids):
        """Target strings [batch, n] of ids int32 [batch, n, T]."""
        shape = tf.shape(ids)
        texts = self.target_tokenizer.detokenize(tf.reshape(ids, [-1, shape[2]]))
        return tf.reshape(texts, shape[:2])

    def _decode_padded(self, states, beam_size, max_length):
        """Runs `decode_xla` on the states padded to a power-of-two batch.

        XLA compiles once per padded batch size and beam size, so a server
        compiles at most log2(max_batch_size) + 1 programs per beam size.
        Attention memory is padded along the source axis to the longest
        input (zero padding is masked out), so it adds no programs.
        """
        batch = tf.shape(states[0])[0]
        sizes = tf.constant([2**i for i in range(max(self._max_batch_size - 1, 1).bit_length() + 1)])
        padded_batch = tf.gather(sizes, tf.searchsorted(sizes, [batch])[0])
        source_padding = self._max_source_length + 1
        padded = [
            tf.pad(s, [[0, padded_batch - batch], [0, source_padding - tf.shape(s)[1]], [0, 0]])
            if attention.is_memory(s) else tf.pad(s, [[0, padded_batch - batch], [0, 0]])
            for s in states
        ]
        found = self.decode_xla(padded, beam_size, max_length)
        return decoding.Hypotheses(*(tensor[:batch] for tensor in found))

    @tf.function(jit_compile=True)
    def decode_xla(self, states, beam_size, max_length):
        """`decoding.beam_search` compiled with XLA; ids padded to the longest possible output.

        Args:
            states: the decoders' initial states (`encode`), attention memory
                padded to `max_source_length + 1` source positions.
            beam_size: int32 scalar (a compile-time constant for XLA).
            max_length: int32 scalar, the most tokens to generate.

        Returns:
            `decoding.Hypotheses` with ids int32 [batch, beam, T], T the decode
            length of a `max_source_length` source.
        """
        return decoding.beam_search(
            self.step_fn, states, beam_size, max_length, self._length_penalty,
            padded_length=self._decode_length(self._max_source_length),
        )

    def _decode_length(self, source_length):
        """The most target tokens to generate for sources of `source_length` tokens.

        Args:
            source_length: int32 scalar tensor or Python int.

        Returns:
            int32 scalar (a Python int for a Python int).
        """
        if isinstance(source_length, int):
            length = math.ceil(self._max_decode_ratio * source_length)
            return min(length + DECODE_LENGTH_SLACK, self._max_decode_length)
        length = tf.math.ceil(self._max_decode_ratio * tf.cast(source_length, tf.float32))
        return tf.minimum(tf.cast(length, tf.int32) + DECODE_LENGTH_SLACK, self._max_decode_length)

    @tf.function(input_signature=[SENTENCES])
    def serve(self, sentences):
        """The `serving_default` signature (default beam size, best hypothesis)."""
        outputs = self.search(sentences, self._beam_size, 1)
        return {
            "translations": outputs["translations"][:, 0],
            "scores": outputs["scores"][:, 0],
            "truncated": outputs["truncated"],
        }

    @tf.function(input_signature=[SENTENCES, BEAM_SIZE, NUM_HYPOTHESES])
    def beam_search(self, sentences, beam_size, num_hypotheses):
        """The `beam_search` signature (n-best lists)."""
        return self.search(sentences, beam_size, num_hypotheses)

    @tf.function(input_signature=[SENTENCES, BEAM_SIZE, NUM_HYPOTHESES])
    def beam_search_xla(self, sentences, beam_size, num_hypotheses):
        """The `beam_search_xla` signature: `beam_search` with an XLA decoding loop."""
        return self.search(sentences, beam_size, num_hypotheses, jit_compile=True)

    @tf.function(input_signature=[SENTENCES])
    def encode_signature(self, sentences):
        """The `encode` signature: the paper's fixed-size sentence representation.

        Returns:
            `{"vectors": float32 [batch, 2 * num_layers * units]}`: the
            encoder's final `(h, c)` of every layer (of every member of an
            ensemble), concatenated.
        """
        _, states, _ = self.encode(sentences)
        final_states = [s for s in states if not attention.is_memory(s)]
        return {"vectors": tf.cast(tf.concat(final_states, axis=1), tf.float32)}


def translator_from_model_dirs(config, model_dirs, checkpoint="latest"):
    """A `Translator` of one model directory, or of several as an ensemble.

    Args:
        config: the first model's `config.Config` (decoding settings apply to all).
        model_dirs: list of model directories sharing vocabularies.
        checkpoint: which checkpoint of each (`model.Seq2Seq.restore`).

    Returns:
        `(translator, checkpoint_paths)`, the checkpoint restored for each model.

    Raises:
        Seq2SeqError: if the models do not share tokenizer, vocabularies and
            source order.
    """
    models, checkpoints = [], []
    for model_dir in model_dirs:
        member_config = config if model_dir == model_dirs[0] else config_lib.load(model_dir)
        _check_same_vocabularies(model_dirs[0], config, model_dir, member_config)
        with model_lib.serving_precision(member_config):
            seq2seq = model_lib.for_model_dir(member_config, model_dir)
        checkpoints.append(seq2seq.restore(model_dir, checkpoint))
        models.append(seq2seq)
    source_tokenizer, target_tokenizer = tokenizer_lib.from_model_dir(model_dirs[0], config.tokenizer)
    return Translator(models, source_tokenizer, target_tokenizer, config), checkpoints


def _check_same_vocabularies(first_dir, first_config, model_dir, config):
    """Raises `Seq2SeqError` unless `model_dir` can join `first_dir`'s ensemble."""
    for field in ("tokenizer", "reverse_source", "source_lang", "target_lang"):
        if getattr(config, field) != getattr(first_config, field):
            raise Seq2SeqError(
                f"cannot ensemble {first_dir} and {model_dir}: {field} differs "
                f"({getattr(first_config, field)!r} != {getattr(config, field)!r})"
            )
    for first_path, path in zip(vocab.paths(first_dir), vocab.paths(model_dir)):
        if vocab.read(first_path) != vocab.read(path):
            raise Seq2SeqError(
                f"cannot ensemble {first_dir} and {model_dir}: {first_path} and {path} differ "
                "(ensemble members must share vocabularies)"
            )


def translator_from_model_dir(config, model_dir):
    """A `Translator` with a model directory's vocabularies and latest weights.

    Returns:
        `(translator, checkpoint_path)`.
    """
    translator, checkpoints = translator_from_model_dirs(config, [model_dir])
    return translator, checkpoints[0]


def export_model_dir(config, model_dir, export_dir, checkpoint="latest", warmup_xla=False):
    """Exports a model directory's latest checkpoint (or several, as an ensemble).

    Args:
        config: the (first) model's config, with decoding overrides; written
            to the version's `assets.extra/config.json`.
        model_dir: a model directory, or a list of them (an ensemble).
        export_dir: the export base directory.
        checkpoint: which checkpoint of each model (`model.Seq2Seq.restore`).
        warmup_xla: also warm up `beam_search_xla` (see `export`).

    Returns:
        The version path.
    """
    model_dirs = model_dir if isinstance(model_dir, (list, tuple)) else [model_dir]
    translator, _ = translator_from_model_dirs(config, model_dirs, checkpoint)
    return export(translator, export_dir, config, warmup_xla)


def translate_batches(translate_fn, sentences, batch_size):
    """Runs `translate_fn` over `sentences` in batches with a progress bar on stderr.

    Each batch holds sentences of similar length (in words): a batch decodes
    until its longest output ends, so mixing lengths wastes steps on finished
    sentences (batch 32 on Multi30k: 1.3x the sentences per second). The
    results come back in the input order. The bar shows only when stderr is a
    terminal, so logs and pipes stay clean.

    Args:
        translate_fn: function from a list of str to a sequence of results.
        sentences: list of str.
        batch_size: sentences per call.

    Returns:
        The results, one per sentence, in the order of `sentences`.
    """
    by_length = sorted(range(len(sentences)), key=lambda i: len(sentences[i].split()))
    results = [None] * len(sentences)
    with tqdm.tqdm(total=len(sentences), unit="sent", disable=None, file=sys.stderr) as bar:
        for start in range(0, len(sentences), batch_size):
            batch = by_length[start : start + batch_size]
            for index, result in zip(batch, translate_fn([sentences[i] for i in batch])):
                results[index] = result
            bar.update(len(batch))
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


def nbest_lines(nbest):
    """n-best lists as TSV lines `INDEX<TAB>RANK<TAB>SCORE<TAB>TRANSLATION` (rank from 1).

    Args:
        nbest: one list per sentence of `(translation, score)` pairs, best
            first (`translate_texts`).

    Returns:
        A list of str, without newlines.
    """
    return [
        f"{index}\t{rank}\t{score:.4f}\t{text}"
        for index, hypotheses in enumerate(nbest)
        for rank, (text, score) in enumerate(hypotheses, start=1)
    ]


def saved_config(path):
    """The `config.Config` stored in an exported version's `assets.extra/`."""
    return config_lib.load(os.path.join(path, "assets.extra"))


def next_version(export_dir):
    """The next free integer version under `export_dir` (1 if there is none)."""
    if not os.path.isdir(export_dir):
        return 1
    versions = [int(name) for name in os.listdir(export_dir) if re.fullmatch(r"\d+", name)]
    return max(versions, default=0) + 1


def export(translator, export_dir, config, warmup_xla=False):
    """Writes `translator` as SavedModel version `export_dir/N/` (N = next free).

    The SavedModel is written to a temporary directory and renamed into place,
    so TF Serving never sees a partial version.

    Args:
        translator: a `Translator`.
        export_dir: the model's base directory, e.g. `saved_models/NAME`.
        config: the translator's `config.Config`, saved as
            `assets.extra/config.json` for clients and provenance.
        warmup_xla: with `config.jit_compile`, put `beam_search_xla` requests
            in the warm-up file too; only for a TF Serving started with
            `--xla_cpu_compilation_enabled` (otherwise the version fails to load).

    Returns:
        The path of the new version directory.
    """
    version = next_version(export_dir)
    final_path = os.path.join(export_dir, str(version))
    temporary_path = os.path.join(export_dir, f".tmp-{version}")
    shutil.rmtree(temporary_path, ignore_errors=True)
    archive = keras.export.ExportArchive()
    for keras_model in translator.keras_models:
        archive.track(keras_model)
    archive.track(translator)
    endpoints = [
        ("serving_default", translator.serve),
        ("beam_search", translator.beam_search),
        ("encode", translator.encode_signature),
    ]
    if config.jit_compile:
        endpoints.append(("beam_search_xla", translator.beam_search_xla))
    for name, function in endpoints:
        function.get_concrete_function()
        archive.add_endpoint(name, function)
    archive.write_out(temporary_path, verbose=False)
    config.save(os.path.join(temporary_path, "assets.extra"))
    warmed = [name for name, _ in endpoints if warmup_xla or name != "beam_search_xla"]
    _write_warmup(temporary_path, translator, export_dir, config, warmed)
    if os.path.exists(final_path):
        raise Seq2SeqError(f"{final_path} appeared while exporting; not overwriting it")
    os.rename(temporary_path, final_path)
    return final_path


def _write_warmup(path, translator, export_dir, config, signatures):
    """Writes TF Serving's warm-up requests: each signature on inputs of growing length."""
    words = [t for t in vocab.read(translator.source_tokenizer.vocab_path) if t.isalpha()]
    sentences = predict_requests.warmup_sentences(words[:100], config.max_source_length)
    model_name = os.path.basename(os.path.normpath(export_dir))
    predict_requests.write_warmup_file(
        path, predict_requests.warmup_requests(model_name, sentences, config.beam_size, signatures)
    )


def load(path):
    """Loads an exported translator SavedModel (`tf.saved_model.load`).

    Raises:
        Seq2SeqError: if `path` is not a SavedModel directory.
    """
    import tensorflow_text  # noqa: F401  Registers the ops the graph uses.

    if not tf.saved_model.contains_saved_model(path):
        raise Seq2SeqError(f"no SavedModel at {path}")
    return tf.saved_model.load(path)
