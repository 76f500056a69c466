"""The translator: strings in, strings out, beam search in one TensorFlow graph.

`Translator` bundles the tokenizers, one trained `model.Seq2Seq` (or several,
an ensemble), optionally a vocabulary shortlist (`shortlist`) and
`decoding.beam_search`. Validation and evaluation use it in-process
(`inference.translate_texts`); `serving.export` writes it as a SavedModel,
its methods `serve`, `beam_search`, `beam_search_full_softmax`,
`beam_search_xla`, `score_signature` and `encode_signature` becoming the
signatures.

Work per request is bounded: more than `max_batch_size` sentences is an
InvalidArgument error, and inputs are cut to `max_source_length` tokens
(translations to score, to `max_decode_length`).
"""

import collections

import tensorflow as tf

from tf_seq2seq import bounds
from tf_seq2seq import decode_step
from tf_seq2seq import decoding
from tf_seq2seq import ensemble
from tf_seq2seq import pipeline
from tf_seq2seq import scoring
from tf_seq2seq import shortlist as shortlist_lib
from tf_seq2seq import unknown_words
from tf_seq2seq.errors import Seq2SeqError

SENTENCES = tf.TensorSpec([None], tf.string, name="sentences")
TRANSLATIONS = tf.TensorSpec([None], tf.string, name="translations")
BEAM_SIZE = tf.TensorSpec([], tf.int32, name="beam_size")
NUM_HYPOTHESES = tf.TensorSpec([], tf.int32, name="num_hypotheses")

Encoded = collections.namedtuple("Encoded", ["source_ids", "states", "constants", "token_counts"])
Encoded.__doc__ = """A batch of sources, encoded (`Translator.encode`).

Attributes:
    source_ids: int32 [batch, S + 1], the padded encoder input (one extra
        padding column keeps the time axis non-empty).
    states: the decoders' initial states (`model.Seq2Seq.initial_states` of
        each member, concatenated): the encoders' final states, float [batch, units].
    constants: the members' per-sentence search constants (attention memory,
        rank 3 [batch, S + 1, ...]), concatenated; `[]` without attention.
    token_counts: int32 [batch], each sentence's token count before truncation.
"""


class Translator(tf.Module):
    """Tokenize -> (reverse) -> encode -> beam search -> detokenize, in one graph.

    Several models sharing vocabularies translate as an ensemble: each encodes
    the source, and beam search averages their per-step log-probs.

    Examples:

    ```python
    from tf_seq2seq import config, loading

    model_config = config.load("runs/demo")
    demo, checkpoint = loading.from_model_dir(model_config, "runs/demo")
    outputs = demo.beam_search(tf.constant(["How are you?"]), tf.constant(4), tf.constant(2))
    outputs["translations"]  # string [1, 2], the two best translations.
    demo.serve(tf.constant(["How are you?"]))["translations"]  # string [1], the best one.
    ```
    """

    def __init__(self, models, source_tokenizer, target_tokenizer, config, keep_decode_weights=False,
                 shortlist=None):
        """Args:
            models: a trained `model.Seq2Seq`, or a list of them (an ensemble).
            source_tokenizer: the source `tokenizer.WordTokenizer` or `tokenizer.WordpieceTokenizer`.
            target_tokenizer: the target tokenizer, of the same kind.
            config: the (first) model's `config.Config` (reverse_source,
                max_source_length, beam_size, length_penalty, max_decode_ratio,
                max_decode_length, max_batch_size, replace_unknown_target).
            keep_decode_weights: keep the encoders' and decoders' weights as
                variables in the form they are used (`decode_step.
                encode_weights`, `decode_weights`: in the compute dtype, the
                decoder's LSTM kernels stacked), so that a request does not
                cast and stack them again. For weights that no longer
                change (`serving.export_model_dir`): a prepared weight keeps
                the value it had here.
            shortlist: a `shortlist.Shortlist`: `search` then restricts each
                request's softmax to its source words' candidates (kept as
                variables, so an export carries them).

        Raises:
            Seq2SeqError: with `replace_unknown_target`, if a model has no attention.
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
        self._replace_unknown_target = config.replace_unknown_target
        if self._replace_unknown_target and any(member.attention is None for member in self.members):
            raise Seq2SeqError(
                "--replace_unknown_target needs models trained with --attention=luong or bahdanau "
                "(every member of an ensemble): it replaces each <unk> by the most attended source word"
            )
        self._kept_decode_weights = (
            [decode_step.decode_weights(member, keep=True) for member in self.members] if keep_decode_weights else None
        )
        self._kept_encode_weights = keep_decode_weights and [
            decode_step.encode_weights(member, keep=True, attention=weights.attention)
            for member, weights in zip(self.members, self._kept_decode_weights)
        ]
        self.shortlist = None if shortlist is None else shortlist_lib.Shortlist(
            *(tf.Variable(table, trainable=False) for table in (shortlist.candidates, shortlist.always))
        )

    @property
    def step_fn(self):
        """A new `beam_search` step function over the whole target vocabulary (`shortlisted_step_fn`)."""
        return self.shortlisted_step_fn(None)

    def shortlisted_step_fn(self, target_ids):
        """A new `beam_search` step function (`ensemble.step_fn`) on the kept weights, if kept.

        Args:
            target_ids: int32 [K], sorted target ids the search may produce
                (`shortlist.vocabulary`; the search's token i is `target_ids[i]`),
                or None for the whole vocabulary.
        """
        kept = self._kept_decode_weights or [None] * len(self.members)
        return ensemble.step_fn(self.members, kept, target_ids)

    def encode(self, sentences):
        """Tokenizes, truncates and encodes a batch of source sentences.

        Args:
            sentences: string [batch], at most `max_batch_size` of them.

        Returns:
            `Encoded`.

        Raises:
            tf.errors.InvalidArgumentError: if the batch is too large.
        """
        source_ids, token_counts = self._source_ids(sentences)
        states, constants = [], []
        kept = self._kept_encode_weights or [None] * len(self.members)
        for member, weights in zip(self.members, kept):
            weights = weights and tf.nest.map_structure(tf.convert_to_tensor, weights)
            member_states, member_constants = member.initial_states(source_ids, weights)
            states += member_states
            constants += member_constants
        return Encoded(source_ids, states, constants, token_counts)

    def _source_ids(self, sentences):
        """`encode`'s encoder input int32 [batch, S + 1] and token counts int32 [batch]; checks the batch size."""
        tf.debugging.assert_less_equal(
            tf.size(sentences), self._max_batch_size,
            message=f"batch larger than max_batch_size={self._max_batch_size}",
        )
        ids = self.source_tokenizer.tokenize(sentences)
        source = pipeline.prepare_source(ids, self._reverse_source, self._max_source_length)
        return tf.pad(source.to_tensor(), [[0, 0], [0, 1]]), tf.cast(ids.row_lengths(), tf.int32)

    def score(self, sentences, translations):
        """Scores given translations of a batch (`scoring.token_log_probs`), as beam search scores its own.

        Args:
            sentences: string [batch], at most `max_batch_size` of them.
            translations: string [batch], a translation of each sentence.

        Returns:
            A dict: `log_probs` float32 [batch], the summed log-prob of the
            translation's tokens and `<eos>`; `lengths` int32 [batch], how
            many tokens that is; `normalized_scores` float32 [batch],
            `log_probs` normalised with the length penalty as beam search
            ranks; `token_log_probs` float32 [batch, T], each token's
            log-prob, 0 after its end; `truncated` bool [batch], whether the
            source had more than `max_source_length` tokens or the
            translation more than `max_decode_length` (its first
            `max_decode_length` are scored, as a search cut there would be).

        Raises:
            tf.errors.InvalidArgumentError: if the batch is too large or the
                two inputs differ in size.
        """
        tf.debugging.assert_equal(
            tf.size(translations), tf.size(sentences), message="sentences and translations differ in size"
        )
        source_ids, token_counts = self._source_ids(sentences)
        target_in, labels = pipeline.encode_target(self.target_tokenizer, translations)
        scored = scoring.score(self.members, source_ids, target_in, labels, self._max_decode_length,
                               self._length_penalty)
        scored["truncated"] |= token_counts > self._max_source_length
        return scored

    def search(self, sentences, beam_size, num_hypotheses, jit_compile=False, full_softmax=False):
        """Translates a batch with beam search.

        With a shortlist (and not `full_softmax` or `jit_compile`), the search
        runs over the batch's shortlist (`shortlist.vocabulary`): its
        log-probs are normalised over those tokens.

        Args:
            sentences: string [batch].
            beam_size: int32 scalar >= 1 (1 = greedy).
            num_hypotheses: int32 scalar in [1, beam_size].
            jit_compile: decode with the XLA-compiled loop (`decode_xla`, whole vocabulary).
            full_softmax: search the whole vocabulary even with a shortlist.

        Returns:
            A dict: `translations` string [batch, num_hypotheses], `scores`
            float32 [batch, num_hypotheses] (summed log-probs) and
            `normalized_scores` (length-normalised, the ranking), best first;
            an input without words translates to "" with scores 0; with
            `replace_unknown_target` each `<unk>` reads as its most attended
            source word (`unknown_words`); and
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
        encoded = self.encode(sentences)
        max_length = bounds.decode_length(
            tf.shape(encoded.source_ids)[1] - 1, self._max_decode_ratio, self._max_decode_length
        )
        target_ids = None
        if self.shortlist is not None and not (full_softmax or jit_compile):
            target_ids = shortlist_lib.vocabulary(
                self.shortlist.candidates, self.shortlist.always, encoded.source_ids
            )
        if jit_compile:
            found = self._decode_padded(encoded, beam_size, max_length, num_hypotheses)
        else:
            found = decoding.beam_search(
                self.shortlisted_step_fn(target_ids), encoded.states, beam_size, max_length,
                self._length_penalty, num_hypotheses=num_hypotheses, constants=encoded.constants,
            )
        ids = found.ids[:, :num_hypotheses]
        if target_ids is not None:
            ids = tf.gather(target_ids, ids)
        attended = unknown_words.hypothesis_words(
            self.members, self.source_tokenizer, sentences, encoded.source_ids, ids, self._reverse_source
        ) if self._replace_unknown_target else None
        texts = self._detokenize(ids, attended)
        token_counts = encoded.token_counts
        empty = (token_counts == 0)[:, tf.newaxis]
        return {
            "translations": tf.where(empty, "", texts),
            "scores": tf.where(empty, 0.0, found.log_probs[:, :num_hypotheses]),
            "normalized_scores": tf.where(empty, 0.0, found.scores[:, :num_hypotheses]),
            "truncated": token_counts > self._max_source_length,
        }

    def _detokenize(self, ids, attended=None):
        """Target strings [batch, n] of ids int32 [batch, n, T] (`<unk>` as `attended` [batch, n, T] if given)."""
        shape = tf.shape(ids)
        flat = [None if t is None else tf.reshape(t, [-1, shape[2]]) for t in (ids, attended)]
        return tf.reshape(self.target_tokenizer.detokenize(*flat), shape[:2])

    def _decode_padded(self, encoded, beam_size, max_length, num_hypotheses):
        """Runs `decode_xla` on the states padded to `bounds.padded_batch_size`.

        Attention memory is padded along the source axis to the longest
        input (zero padding is masked out), so it adds no programs.
        """
        batch = tf.shape(encoded.states[0])[0]
        padded_batch = bounds.padded_batch_size(batch, self._max_batch_size)
        source_padding = self._max_source_length + 1
        states = [tf.pad(s, [[0, padded_batch - batch], [0, 0]]) for s in encoded.states]
        constants = [tf.pad(c, [[0, padded_batch - batch], [0, source_padding - tf.shape(c)[1]], [0, 0]])
                     for c in encoded.constants]
        found = self.decode_xla(states, constants, beam_size, max_length, num_hypotheses)
        return decoding.Hypotheses(*(tensor[:batch] for tensor in found))

    @tf.function(jit_compile=True)
    def decode_xla(self, states, constants, beam_size, max_length, num_hypotheses):
        """`decoding.beam_search` compiled with XLA; ids padded to the longest possible output.

        Args:
            states: the decoders' initial states (`encode`).
            constants: the per-sentence constants (`encode`), attention memory
                padded to `max_source_length + 1` source positions.
            beam_size: int32 scalar (a compile-time constant for XLA).
            max_length: int32 scalar, the most tokens to generate.
            num_hypotheses: int32 scalar, how many of the best hypotheses
                must be exact (`decoding.beam_search`).

        Returns:
            `decoding.Hypotheses` with ids int32 [batch, beam, T], T the decode
            length of a `max_source_length` source.
        """
        return decoding.beam_search(
            self.step_fn, states, beam_size, max_length, self._length_penalty,
            padded_length=bounds.decode_length(
                self._max_source_length, self._max_decode_ratio, self._max_decode_length
            ),
            num_hypotheses=num_hypotheses, constants=constants,
        )

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
    def beam_search_full_softmax(self, sentences, beam_size, num_hypotheses):
        """The `beam_search_full_softmax` signature (exports with a shortlist): `beam_search` over every target word."""
        return self.search(sentences, beam_size, num_hypotheses, full_softmax=True)

    @tf.function(input_signature=[SENTENCES, BEAM_SIZE, NUM_HYPOTHESES])
    def beam_search_xla(self, sentences, beam_size, num_hypotheses):
        """The `beam_search_xla` signature: `beam_search` with an XLA decoding loop."""
        return self.search(sentences, beam_size, num_hypotheses, jit_compile=True)

    @tf.function(input_signature=[SENTENCES, TRANSLATIONS])
    def score_signature(self, sentences, translations):
        """The `score` signature: `score`'s outputs for given translations."""
        return self.score(sentences, translations)

    @tf.function(input_signature=[SENTENCES])
    def encode_signature(self, sentences):
        """The `encode` signature: the paper's fixed-size sentence representation.

        Returns:
            `{"vectors": float32 [batch, 2 * num_layers * units]}`: the
            encoder's final `(h, c)` of every layer (of every member of an
            ensemble), concatenated.
        """
        return {"vectors": tf.cast(tf.concat(self.encode(sentences).states, axis=1), tf.float32)}
