"""The deep LSTM encoder-decoder of Sutskever et al. (2014) as a Keras functional model.

The encoder reads the (reversed) source; the final `(h, c)` of each of its
layers initialises the matching decoder layer. The decoder is trained with
teacher forcing and ends with a softmax over the target vocabulary.

`Seq2Seq` holds three views that share the same layers and weights:

* `training_model`: `{"source": [B, S], "target_in": [B, T]}` -> logits
  `[B, T, V]`, built from cuDNN-eligible `keras.layers.LSTM`s.
* `encoder`: source ids `[B, S]` -> the flat list of final states
  `[h_1, c_1, ..., h_L, c_L]`, each `[B, units]`.
* `decode_step`: one decoder step (the LSTM cells' arithmetic on the same
  weights), for beam search; `decode_step_fn` reads the weights once for a loop.

With `--attention` (beyond the paper; `attention.py`) the top decoder layer's
outputs attend over the top encoder layer's outputs before the softmax layer;
`initial_states` then appends the attention memory to the decoder's initial
states, and `alignment_model` gives the attention weights `[B, T, S]`.

`logits` runs the training computation with the paper's model parallelism
when `--layer_devices` is set: the embeddings, each LSTM layer (encoder and
decoder layer i together) and the softmax on their own devices, so a deep
stack pipelines across GPUs within one replica. The weights are created on
those devices too; the exported graphs carry no device placement.
"""

import collections
import contextlib

import keras
import tensorflow as tf

from tf_seq2seq import attention as attention_lib
from tf_seq2seq import checkpoints
from tf_seq2seq import cpu_lstm
from tf_seq2seq import decoding
from tf_seq2seq import vocab
from tf_seq2seq.errors import Seq2SeqError


# The decoder's weights as a step uses them (`Seq2Seq.decode_weights`).
DecodeWeights = collections.namedtuple("DecodeWeights", ["embeddings", "layers", "projection", "attention"])


class Seq2Seq:
    """The encoder-decoder and its training, encoding and decoding views."""

    def __init__(self, config, source_vocab_size, target_vocab_size):
        """Builds the layers and the Keras models.

        Args:
            config: a `config.Config` (num_layers, units, embedding_dim,
                init_scale, dropout, attention).
            source_vocab_size: number of source ids, special tokens included.
            target_vocab_size: number of target ids, special tokens included.
        """
        self.num_layers = config.num_layers
        self._devices = layer_devices(config)
        # Unseeded: draws from Keras' global seed (`keras.utils.set_random_seed`),
        # so every layer gets different, reproducible values.
        init = keras.initializers.RandomUniform(-config.init_scale, config.init_scale)
        self.source_embedding = keras.layers.Embedding(
            source_vocab_size, config.embedding_dim, embeddings_initializer=init,
            mask_zero=True, name="source_embedding",
        )
        self.target_embedding = keras.layers.Embedding(
            target_vocab_size, config.embedding_dim, embeddings_initializer=init,
            mask_zero=True, name="target_embedding",
        )
        # Attention reads the top encoder layer's outputs at every position.
        self.attention = None if config.attention == "none" else attention_lib.Attention(
            config.attention, config.units, init
        )
        self.encoder_layers = [
            _lstm(config.units, init, f"encoder_lstm_{i}",
                  return_sequences=i < self.num_layers - 1 or self.attention is not None)
            for i in range(self.num_layers)
        ]
        self.decoder_layers = [
            _lstm(config.units, init, f"decoder_lstm_{i}", return_sequences=True)
            for i in range(self.num_layers)
        ]
        # Dropout between layers (not recurrent dropout) keeps the LSTMs
        # cuDNN-eligible; with rate 0 it is the identity.
        self.dropout = keras.layers.Dropout(config.dropout, name="dropout")
        self.projection = keras.layers.Dense(
            target_vocab_size, kernel_initializer=init, bias_initializer=init, name="softmax",
        )
        # On a CPU, `logits` runs the LSTMs with one input GEMM over all timesteps
        # (`cpu_lstm`); on a GPU, Keras' cuDNN kernel.
        self._cpu_lstm = not cpu_lstm.gpu_available()

        source = keras.Input((None,), dtype="int32", name="source")
        target_in = keras.Input((None,), dtype="int32", name="target_in")
        states, memory = self._encode(source)
        logits, alignments = self._decode(target_in, states, memory, source)
        inputs = {"source": source, "target_in": target_in}
        self.training_model = keras.Model(inputs, logits, name="seq2seq")
        self.encoder = keras.Model(source, states, name="encoder")
        if self.attention is not None:
            self.alignment_model = keras.Model(inputs, alignments, name="alignments")
            self._memory_encoder = keras.Model(source, [states, memory], name="memory_encoder")

    @property
    def num_states(self):
        """How many tensors `initial_states` returns (the decoding states)."""
        memory = 0 if self.attention is None else 2 + (self.attention.kind == "bahdanau")
        return 2 * self.num_layers + memory

    def initial_states(self, source_ids):
        """The decoder's initial states for `decode_step`, from the encoder input.

        Args:
            source_ids: int32 [B, S], the (reversed) source, padded with
                `vocab.PAD_ID` on the right.

        Returns:
            List of `num_states` tensors: the encoder's final `[h_1, c_1, ...,
            h_L, c_L]`, [B, units] each, then with attention the memory
            (`attention.Attention.memory_states`, rank 3 [B, S, ...]).
            On a CPU the encoder runs on `cpu_lstm` (as in training).
        """
        if self._cpu_lstm:
            states, memory = self._encode_cpu(source_ids, training=False)
        elif self.attention is None:
            return self.encoder(source_ids)
        else:
            states, memory = self._memory_encoder(source_ids)
        if self.attention is None:
            return states
        return list(states) + self.attention.memory_states(memory, source_ids)

    def _on(self, index):
        """Device scope of group `index` (0 embeddings, 1..L layers, L+1 softmax)."""
        return tf.device(self._devices[index]) if self._devices else contextlib.nullcontext()

    def _encode(self, source, training=None):
        """Runs the encoder: embeddings, then the LSTM layers, each passing on its sequence.

        Args:
            source: int32 [B, S] source ids, right-padded with `vocab.PAD_ID`
                (the embedding masks the padding).
            training: whether dropout is on; None leaves Keras' default.

        Returns:
            `(states, outputs)`: the flat list of final states `[h_1, c_1, ...,
            h_L, c_L]`, each float [B, units], and the top layer's outputs
            float [B, S, units] (the attention memory); the policy's compute dtype.
        """
        # `training` is passed on only when given: the functional model is
        # built without it, which fixes its graph (and checkpoint) layout.
        mode = {} if training is None else {"training": training}
        with self._on(0):
            x = self.source_embedding(source)
        states = []
        for i, layer in enumerate(self.encoder_layers):
            with self._on(i + 1):
                x, h, c = layer(self.dropout(x, **mode), **mode)
            states += [h, c]
        return states, x

    def _decode(self, target_in, states, memory, source, training=None):
        """Runs the teacher-forced decoder from the encoder's final states.

        Args:
            target_in: int32 [B, T] decoder inputs (`<bos>` then the target),
                right-padded with `vocab.PAD_ID`.
            states: `_encode`'s list of 2 x num_layers float [B, units]; layer
                i starts from `states[2i]` (h) and `states[2i + 1]` (c).
            memory: `_encode`'s top-layer outputs float [B, S, units], attended
                to with `--attention` (unused without).
            source: int32 [B, S] source ids (their padding is masked).
            training: whether dropout is on; None leaves Keras' default.

        Returns:
            `(logits, alignments)`: float32 logits [B, T, target vocabulary
            size], and the attention weights float32 [B, T, S] (None without
            attention).
        """
        mode = {} if training is None else {"training": training}
        with self._on(0):
            y = self.target_embedding(target_in)
        for i, layer in enumerate(self.decoder_layers):
            with self._on(i + 1):
                y, _, _ = layer(self.dropout(y, **mode), initial_state=states[2 * i : 2 * i + 2], **mode)
        with self._on(self.num_layers + 1):
            alignments = None
            if self.attention is not None:
                y, alignments = self.attention(y, memory, source)
            return self._project(self.dropout(y, **mode)), alignments

    def _project(self, y):
        """float32 logits of decoder outputs; the GEMM runs in the policy's compute dtype."""
        return keras.ops.cast(self.projection(y), "float32")

    def logits(self, features, training=False):
        """The training model's computation, placed on `--layer_devices` if set.

        Args:
            features: `{"source": int32 [B, S], "target_in": int32 [B, T]}`.
            training: whether dropout is active.

        Returns:
            float32 logits [B, T, target_vocab_size], as `training_model(features)`.
        """
        source = features["source"]
        if not self._cpu_lstm:
            states, memory = self._encode(source, training)
            return self._decode(features["target_in"], states, memory, source, training)[0]
        outputs = self._decoder_outputs_cpu(features, training)
        with self._on(self.num_layers + 1), tf.name_scope(self.projection.name):
            kernel, bias = self._projection_weights()
            logits = tf.cast(tf.nn.bias_add(tf.matmul(outputs, kernel), bias), tf.float32)
        return tf.reshape(logits, [*tf.unstack(tf.shape(features["target_in"])), -1])

    def loss_sum(self, features, labels, training=False):
        """`masked_loss_sum(labels, self.logits(features, training))`, what a training step minimises.

        On the CPU path the softmax layer and the loss are one function
        (`projected_cross_entropy_sum`) over the non-padding tokens only, in
        chunks, with its gradients computed in the forward pass: no [tokens,
        vocabulary] tensor is held.

        Args:
            features: `{"source": int32 [B, S], "target_in": int32 [B, T]}`.
            labels: int32 [B, T], `vocab.PAD_ID` where padded.
            training: whether dropout is active.

        Returns:
            `(loss_sum, num_tokens)`, float32 scalars.
        """
        if not self._cpu_lstm:
            return masked_loss_sum(labels, self.logits(features, training))
        labels = tf.reshape(labels, [-1])
        rows, weights = _token_rows(labels)
        outputs = tf.gather(self._decoder_outputs_cpu(features, training), rows)
        with self._on(self.num_layers + 1), tf.name_scope(self.projection.name):
            # float32 weights: their gradients stay float32 (the function casts them for its GEMMs).
            kernel, bias = self._projection_weights(tf.float32)
            loss = projected_cross_entropy_sum(
                outputs, kernel, bias, tf.gather(labels, rows), weights, SOFTMAX_CHUNK_ROWS
            )
        return loss, tf.reduce_sum(weights)

    def _projection_weights(self, dtype=None):
        """The softmax layer's kernel [units, V] and bias [V] in `dtype` (default: its compute dtype)."""
        dtype = dtype or self.projection.compute_dtype
        return tf.cast(self.projection.kernel.value, dtype), tf.cast(self.projection.bias.value, dtype)

    def _decoder_outputs_cpu(self, features, training):
        """The softmax layer's inputs on the CPU path: [B * T, units] (row b * T + t), compute dtype."""
        source = features["source"]
        states, memory = self._encode_cpu(source, training)
        outputs = self._decode_cpu(features["target_in"], states, memory, source, training)
        return tf.reshape(outputs, [-1, tf.shape(outputs)[-1]])

    def _encode_cpu(self, source, training):
        """`_encode` on `cpu_lstm.lstm` (time-major inside): the final states, and with attention
        the top layer's outputs [B, S, units] (else None)."""
        x, mask = self._embed_time_major(self.source_embedding, source)
        states = []
        for i, layer in enumerate(self.encoder_layers):
            with self._on(i + 1), tf.name_scope(layer.name):
                x, h, c = cpu_lstm.lstm(layer.cell, self.dropout(x, training=training), mask)
            states += [h, c]
        return states, tf.transpose(x, [1, 0, 2]) if self.attention is not None else None

    def _decode_cpu(self, target_in, states, memory, source, training):
        """`_decode` on `cpu_lstm.lstm` up to the softmax layer: its inputs [B, T, units]
        (after dropout), in the compute dtype."""
        y, mask = self._embed_time_major(self.target_embedding, target_in)
        for i, layer in enumerate(self.decoder_layers):
            with self._on(i + 1), tf.name_scope(layer.name):
                y, _, _ = cpu_lstm.lstm(
                    layer.cell, self.dropout(y, training=training), mask, states[2 * i : 2 * i + 2]
                )
        with self._on(self.num_layers + 1):
            y = tf.transpose(y, [1, 0, 2])
            if self.attention is not None:
                y, _ = self.attention(y, memory, source)
            return self.dropout(y, training=training)

    def _embed_time_major(self, embedding, ids):
        """Embeddings [T, B, D] of ids int32 [B, T], and the mask bool [T, B] of non-padding."""
        ids = tf.transpose(ids)
        with self._on(0), tf.name_scope(embedding.name):
            return tf.gather(embedding.embeddings, ids), ids != vocab.PAD_ID

    def decode_step(self, ids, states):
        """Runs the decoder one step (same weights as training).

        Args:
            ids: int32 [N], the previous target token of each hypothesis.
            states: list of `num_states` tensors (`initial_states`):
                `[h_1, c_1, ...]` float32 [N, units], then any attention memory.

        Returns:
            `(scores, states)`: `decoding.Logits` of the next token, float32
            [N, target_vocab_size] (`decoding.to_log_probs` normalises them),
            and the new states in the same layout.
        """
        return self.decode_step_fn()(ids, states)

    def decode_weights(self, keep=False):
        """The decoder's weights as one step uses them, read now.

        Each is cast to the compute dtype, and each LSTM's two kernels are
        stacked into one `[x, h] x [W; U]` GEMM.

        Args:
            keep: return variables instead of values: a weight used as it is
                stored is its own variable; any other (cast or stacked) is a
                new non-trainable variable holding its value as it is now.

        Returns:
            `DecodeWeights` in the compute dtype: embeddings [target_vocab_size,
            embedding_dim], per decoder layer `(kernel [input + units, 4 x
            units], bias [4 x units])`, the projection's `(kernel [units,
            target_vocab_size], bias [target_vocab_size])` and the attention's
            weights (`attention.Attention.read`), or `()` without attention.
        """
        dtype = self.projection.compute_dtype

        def kept(value):
            """`value`, or with `keep` a new variable holding it."""
            return tf.Variable(value, trainable=False) if keep else value

        def read(*variables):
            """The variables' values (concatenated along axis 0) in the compute dtype, or with `keep` their variable."""
            if keep and len(variables) == 1 and variables[0].dtype == dtype:
                return variables[0].value
            return kept(tf.cast(tf.concat([tf.convert_to_tensor(v.value) for v in variables], 0), dtype))

        return DecodeWeights(
            embeddings=read(self.target_embedding.embeddings),
            layers=[(read(layer.cell.kernel, layer.cell.recurrent_kernel), read(layer.cell.bias))
                    for layer in self.decoder_layers],
            projection=(read(self.projection.kernel), read(self.projection.bias)),
            attention=tuple(map(kept, self.attention.read(dtype))) if self.attention else (),
        )

    def decode_step_fn(self, weights=None):
        """`decode_step` with the weights read once, for a search loop.

        Call it outside the loop (e.g. before `decoding.beam_search`): the
        weights are read here (`decode_weights`), so every step runs only the
        arithmetic (fewer ops, which small-batch search pays for per step).

        Args:
            weights: `DecodeWeights` read earlier (e.g. kept in a SavedModel,
                so a request does not cast and stack them again); default:
                read now.

        Returns:
            A function `(ids, states) -> (scores, states)` as `decode_step`.
        """
        embeddings, layers, projection, attention = weights or self.decode_weights()
        dtype = embeddings.dtype
        lstm_states = 2 * self.num_layers

        def step(ids, states):
            x = tf.gather(embeddings, ids)
            new_states = []
            memory_states = states[lstm_states:]
            for (kernel, bias), h, c in zip(layers, states[:lstm_states:2], states[1:lstm_states:2]):
                z = tf.nn.bias_add(tf.matmul(tf.concat([x, tf.cast(h, dtype)], 1), kernel), bias)
                i, f, g, o = tf.split(z, 4, axis=1)
                c = tf.sigmoid(f) * tf.cast(c, dtype) + tf.sigmoid(i) * tf.tanh(g)
                x = tf.sigmoid(o) * tf.tanh(c)
                new_states += [x, c]
            if attention:
                x, _ = attention_lib.attend(self.attention.kind, attention, x[:, tf.newaxis], memory_states)
                x = x[:, 0]
            logits = tf.nn.bias_add(tf.matmul(x, projection[0]), projection[1])
            return decoding.Logits(tf.cast(logits, tf.float32)), new_states + memory_states

        return step

    def parameter_counts(self):
        """Parameters per layer group, as an ordered dict of name -> int."""
        groups = {
            "source embedding": [self.source_embedding],
            "target embedding": [self.target_embedding],
            "encoder LSTMs": self.encoder_layers,
            "decoder LSTMs": self.decoder_layers,
            "softmax": [self.projection],
        }
        if self.attention is not None:
            groups["attention"] = [self.attention]
        return {name: sum(layer.count_params() for layer in layers) for name, layers in groups.items()}

    def restore(self, model_dir, checkpoint="latest", average_last=1):
        """Loads a checkpoint's weights (no optimizer or data state), or their average over several.

        Args:
            model_dir: the model directory.
            checkpoint: `latest`, `best` or a checkpoint path (`checkpoints.resolve`).
            average_last: average the weights of this many checkpoints, the
                one named and those saved before it (`checkpoints.last_checkpoints`).

        Returns:
            The checkpoint path (the named one).
        """
        path = checkpoints.resolve(model_dir, checkpoint)
        checkpoints.restore_average(
            tf.train.Checkpoint(model=self.training_model), self.training_model.weights,
            checkpoints.last_checkpoints(path, average_last),
        )
        return path


def layer_devices(config):
    """The devices of `config.layer_devices` (num_layers + 2 of them), or None if unset.

    Raises:
        Seq2SeqError: if the count does not match the model's depth.
    """
    if not config.layer_devices:
        return None
    devices = [d.strip() for d in config.layer_devices.split(",")]
    if len(devices) != config.num_layers + 2:
        raise Seq2SeqError(
            f"--layer_devices needs {config.num_layers + 2} devices (embeddings, "
            f"{config.num_layers} LSTM layers, softmax), got {len(devices)}: {config.layer_devices}"
        )
    return devices


@contextlib.contextmanager
def serving_precision(config):
    """Builds models in the context with the compute dtype they serve in.

    A model trained with `mixed_bfloat16` also encodes and decodes in bfloat16
    (the softmax GEMM streams half the bytes per beam step; log-probs stay
    float32); any other model serves in float32. Restores Keras' global policy
    on exit.
    """
    previous = keras.mixed_precision.global_policy()
    bfloat16 = config.mixed_precision == "mixed_bfloat16"
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if bfloat16 else "float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def masked_loss_sum(labels, logits):
    """Summed cross-entropy over non-padding target tokens.

    Args:
        labels: int32 [batch, time], `vocab.PAD_ID` where padded.
        logits: float [batch, time, vocab].

    Returns:
        `(loss_sum, num_tokens)`, float32 scalars.
    """
    mask = tf.cast(labels != vocab.PAD_ID, tf.float32)
    losses = sparse_cross_entropy(labels, tf.cast(logits, tf.float32))
    return tf.reduce_sum(losses * mask), tf.reduce_sum(mask)


@tf.custom_gradient
def sparse_cross_entropy(labels, logits):
    """`tf.nn.sparse_softmax_cross_entropy_with_logits` in fewer passes over the logits.

    The same math (`softmax_cross_entropy`), gradient `(softmax -
    one_hot(label)) * upstream`. TensorFlow's fused kernel takes ~6x a
    softmax's CPU time on [1000, 10000] logits.

    Args:
        labels: int32 [...], ids in [0, V).
        logits: float32 [..., V].

    Returns:
        float32 [...], the cross-entropy of each position.
    """
    vocab_size = tf.shape(logits)[-1]
    flat_labels = tf.reshape(labels, [-1])
    losses, probs = softmax_cross_entropy(flat_labels, tf.reshape(logits, [-1, vocab_size]))

    def grad(upstream):
        flat_grad = _minus_one_hot(probs * tf.reshape(upstream, [-1, 1]), flat_labels, tf.reshape(upstream, [-1]))
        return None, tf.reshape(flat_grad, tf.shape(logits))

    return tf.reshape(losses, tf.shape(labels)), grad


# Rows per chunk of `projected_cross_entropy_sum`: its [C, V] float32 tensors are
# 10 MB each for V = 10000. Chosen by measurement (the layer's forward and
# backward alone, N = 3200, units 256, V = 10000, one core): CPU time flat within
# the noise (5%) for C = 128..1024, peak RSS growing above 256 (float32 673, 685,
# 714, 797 MB for C = 128, 256, 512, 1024).
SOFTMAX_CHUNK_ROWS = 256
# `Seq2Seq.loss_sum` feeds the softmax layer a multiple of this many rows.
ROW_MULTIPLE = 32


def _token_rows(labels):
    """The rows of the non-padding labels, padded to a multiple of `ROW_MULTIPLE` with row 0 at weight 0.

    The softmax layer's GEMMs then see few distinct shapes (oneDNN builds a
    kernel for each new shape, which costs time and memory).

    Args:
        labels: int32 [N], `vocab.PAD_ID` where padded.

    Returns:
        `(rows, weights)`: int64 [M] row indices, float32 [M] 1 or 0.
    """
    tokens = tf.where(labels != vocab.PAD_ID)[:, 0]
    extra = -tf.size(tokens) % ROW_MULTIPLE
    return (tf.concat([tokens, tf.zeros([extra], tf.int64)], 0),
            tf.concat([tf.ones_like(tokens, tf.float32), tf.zeros([extra])], 0))


def projected_cross_entropy_sum(inputs, kernel, bias, labels, weights, chunk_rows):
    """The weighted sum of the softmax layer's cross-entropies, the layer and the loss in one.

    `sum_n weights[n] * cross_entropy(labels[n], inputs[n] @ kernel + bias)`,
    computed `chunk_rows` rows at a time together with its gradients, so no
    [N, V] tensor ever exists: the forward pass holds one chunk's [chunk_rows,
    V] logits, softmax and logits gradient at a time and accumulates the
    kernel and bias gradients in float32; the backward pass only scales the
    gradients by the scalar upstream gradient. The GEMMs run in the inputs'
    dtype (the policy's compute dtype), the softmax, loss and sums in float32.

    Args:
        inputs: float [N, units], the compute dtype.
        kernel: float32 [units, V] (cast to the inputs' dtype for the GEMMs).
        bias: float32 [V] (likewise).
        labels: int32 [N], ids in [0, V).
        weights: float32 [N], each row's weight.
        chunk_rows: rows per chunk (N need not be a multiple).

    Returns:
        float32 scalar, the weighted loss sum.
    """

    @tf.custom_gradient
    def loss_sum(inputs, kernel, bias):
        loss, d_inputs, d_kernel, d_bias = _chunked_loss_and_gradients(
            inputs, tf.cast(kernel, inputs.dtype), tf.cast(bias, inputs.dtype), labels, weights, chunk_rows
        )

        def grad(upstream):
            return tf.cast(tf.cast(d_inputs, tf.float32) * upstream, inputs.dtype), d_kernel * upstream, d_bias * upstream

        return loss, grad

    return loss_sum(inputs, kernel, bias)


def _chunked_loss_and_gradients(inputs, kernel, bias, labels, weights, chunk_rows):
    """`_chunk_loss_and_gradients` over the rows `chunk_rows` at a time, one chunk after another.

    Returns:
        `(loss, d_inputs, d_kernel, d_bias)`: float32 [], [N, units] in the
        inputs' dtype, float32 [units, V] and float32 [V].
    """
    num_chunks = (tf.shape(inputs)[0] + chunk_rows - 1) // chunk_rows

    def chunk(i):
        rows = slice(i * chunk_rows, (i + 1) * chunk_rows)
        return _chunk_loss_and_gradients(inputs[rows], kernel, bias, labels[rows], weights[rows])

    def body(i, loss, d_inputs, d_kernel, d_bias):
        part = chunk(i)
        return i + 1, loss + part[0], d_inputs.write(i, part[1]), d_kernel + part[2], d_bias + part[3]

    # The first chunk (empty for N = 0) starts the sums: no zero [units, V] accumulator to add to.
    loss, first_d_inputs, d_kernel, d_bias = chunk(0)
    d_inputs = tf.TensorArray(inputs.dtype, tf.maximum(num_chunks, 1), infer_shape=False,
                              element_shape=[None, inputs.shape[1]]).write(0, first_d_inputs)
    # One chunk at a time: overlapping iterations would hold several chunks' [chunk_rows, V] tensors.
    _, loss, d_inputs, d_kernel, d_bias = tf.while_loop(
        lambda i, *_: i < num_chunks, body, (1, loss, d_inputs, d_kernel, d_bias), parallel_iterations=1
    )
    return loss, d_inputs.concat(), d_kernel, d_bias


def _chunk_loss_and_gradients(inputs, kernel, bias, labels, weights):
    """One chunk's weighted loss sum and its gradients.

    Args:
        inputs: float [C, units]; kernel [units, V] and bias [V] in its dtype.
        labels: int32 [C].
        weights: float32 [C].

    Returns:
        `(loss, d_inputs, d_kernel, d_bias)`: float32 [], [C, units] in the
        inputs' dtype, float32 [units, V] and float32 [V].
    """
    logits = tf.nn.bias_add(tf.matmul(inputs, kernel), bias)
    losses, probs = softmax_cross_entropy(labels, tf.cast(logits, tf.float32))
    # d loss / d logits before the weights: softmax - one_hot(label). The
    # weights scale the [C, units] GEMM operands and results instead. Once the
    # losses have read the softmax, the scatter is its last reader and writes in
    # place rather than into a copy of it.
    with tf.control_dependencies([losses]):
        d_logits = _minus_one_hot(probs, labels, tf.ones_like(weights))
    d_logits_low = tf.cast(d_logits, inputs.dtype)  # The GEMMs' operand.
    row_weights = weights[:, tf.newaxis]
    d_inputs = tf.cast(tf.cast(tf.matmul(d_logits_low, kernel, transpose_b=True), tf.float32) * row_weights,
                       inputs.dtype)
    d_kernel = tf.matmul(tf.cast(tf.cast(inputs, tf.float32) * row_weights, inputs.dtype), d_logits_low,
                         transpose_a=True)
    d_bias = tf.matmul(weights[tf.newaxis], d_logits)[0]
    return tf.reduce_sum(losses * weights), d_inputs, tf.cast(d_kernel, tf.float32), d_bias


def softmax_cross_entropy(labels, logits):
    """The cross-entropy of each row, and the softmax, from one softmax pass (`decoding.log_sum_exp`).

    Args:
        labels: int32 [N], ids in [0, V).
        logits: float32 [N, V].

    Returns:
        `(losses, probs)`: float32 [N] and [N, V].
    """
    probs = tf.nn.softmax(logits)
    return decoding.log_sum_exp(logits, probs)[:, 0] - tf.gather(logits, labels, batch_dims=1), probs


def _minus_one_hot(values, labels, amounts):
    """`values` [N, V] with `amounts` [N] subtracted at (row, labels[row]), touching only those entries."""
    rows = tf.range(tf.shape(labels)[0])
    return tf.tensor_scatter_nd_sub(values, tf.stack([rows, labels], 1), amounts)


def for_model_dir(config, model_dir):
    """A `Seq2Seq` sized by the vocabularies saved in `model_dir`."""
    source_path, target_path = vocab.paths(model_dir)
    return Seq2Seq(config, len(vocab.read(source_path)), len(vocab.read(target_path)))


def _lstm(units, init, name, return_sequences):
    """An LSTM layer eligible for the cuDNN kernel, every parameter uniform-initialised."""
    return keras.layers.LSTM(
        units,
        return_sequences=return_sequences,
        return_state=True,
        kernel_initializer=init,
        recurrent_initializer=init,
        bias_initializer=init,
        unit_forget_bias=False,
        name=name,
    )
