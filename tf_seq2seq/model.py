"""The deep LSTM encoder-decoder of Sutskever et al. (2014) as a Keras functional model.

The encoder reads the (reversed) source; the final `(h, c)` of each of its
layers initialises the matching decoder layer. The decoder is trained with
teacher forcing and ends with a softmax over the target vocabulary.

`Seq2Seq` holds three views that share the same layers and weights:

* `training_model`: `{"source": [B, S], "target_in": [B, T]}` -> logits
  `[B, T, V]`, built from cuDNN-eligible `keras.layers.LSTM`s.
* `encoder`: source ids `[B, S]` -> the flat list of final states
  `[h_1, c_1, ..., h_L, c_L]`, each `[B, units]`.
* `decode_step.step_fn`: one decoder step (the LSTM cells' arithmetic on the
  same weights, read once), for beam search.

With `--attention` (beyond the paper; `attention.py`) the top decoder layer's
outputs attend over the top encoder layer's outputs before the softmax layer;
`initial_states` then also returns the attention memory, a per-sentence
constant of the search, and `alignment_model` gives the attention weights
`[B, T, S]`.

`logits` runs the training computation with the paper's model parallelism
when `--layer_devices` is set: the embeddings, each LSTM layer (encoder and
decoder layer i together) and the softmax on their own devices, so a deep
stack pipelines across GPUs within one replica. The weights are created on
those devices too; the exported graphs carry no device placement.
"""

import contextlib

import keras
import tensorflow as tf

from tf_seq2seq import attention as attention_lib
from tf_seq2seq import checkpoints
from tf_seq2seq import cpu_lstm
from tf_seq2seq import losses
from tf_seq2seq import placement
from tf_seq2seq import vocab


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
        self._devices = placement.layer_devices(config)
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
        """How many decoder states `initial_states` returns: (h, c) per layer."""
        return 2 * self.num_layers

    @property
    def num_constants(self):
        """How many per-sentence constants `initial_states` returns: the attention memory, if any."""
        return 0 if self.attention is None else 2 + (self.attention.kind == "bahdanau")

    def initial_states(self, source_ids, weights=None):
        """The decoder's initial states and per-sentence constants for `decode_step.step_fn`.

        Args:
            source_ids: int32 [B, S], the (reversed) source, padded with
                `vocab.PAD_ID` on the right.
            weights: `decode_step.EncodeWeights` read earlier (`decode_step.encode_weights`, e.g.
                kept in a SavedModel so a request does not cast them again);
                default: read now.

        Returns:
            `(states, constants)`: the encoder's final `[h_1, c_1, ..., h_L,
            c_L]`, [B, units] each (`num_states` of them), and with attention
            the memory (`attention.Attention.memory_states`, rank 3 [B, S,
            ...]; `num_constants` of them), else `[]`. A search keeps the
            constants once per sentence, not per hypothesis.
            On a CPU the encoder runs on `cpu_lstm` (as in training).
        """
        if self._cpu_lstm:
            states, memory = self._encode_cpu(source_ids, training=False, weights=weights and weights.layers)
        elif self.attention is None:
            return self.encoder(source_ids), []
        else:
            states, memory = self._memory_encoder(source_ids)
        if self.attention is None:
            return states, []
        return list(states), self.attention.memory_states(memory, source_ids, weights and weights.attention)

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
        """`losses.masked_loss_sum(labels, self.logits(features, training))`, what a training step minimises.

        On the CPU path the softmax layer and the loss are one function
        (`losses.projected_cross_entropy_sum`) over the non-padding tokens only, in
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
            return losses.masked_loss_sum(labels, self.logits(features, training))
        labels = tf.reshape(labels, [-1])
        rows, weights = losses.token_rows(labels)
        outputs = tf.gather(self._decoder_outputs_cpu(features, training), rows)
        with self._on(self.num_layers + 1), tf.name_scope(self.projection.name):
            # float32 weights: their gradients stay float32 (the function casts them for its GEMMs).
            kernel, bias = self._projection_weights(tf.float32)
            loss = losses.projected_cross_entropy_sum(
                outputs, kernel, bias, tf.gather(labels, rows), weights, losses.SOFTMAX_CHUNK_ROWS
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

    def _encode_cpu(self, source, training, weights=None):
        """`_encode` on `cpu_lstm.lstm` (time-major inside): the final states, and with attention
        the top layer's outputs [B, S, units] (else None). `weights`: `decode_step.EncodeWeights.layers`, if read."""
        x, mask = self._embed_time_major(self.source_embedding, source)
        states = []
        for i, layer in enumerate(self.encoder_layers):
            with self._on(i + 1), tf.name_scope(layer.name):
                x, h, c = cpu_lstm.lstm(layer.cell, self.dropout(x, training=training), mask,
                                        weights=weights and weights[i])
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
