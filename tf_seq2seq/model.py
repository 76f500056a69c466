"""The deep LSTM encoder-decoder of Sutskever et al. (2014) as a Keras functional model.

The encoder reads the (reversed) source; the final `(h, c)` of each of its
layers initialises the matching decoder layer. The decoder is trained with
teacher forcing and ends with a softmax over the target vocabulary.

`Seq2Seq` holds three views that share the same layers and weights:

* `training_model`: `{"source": [B, S], "target_in": [B, T]}` -> logits
  `[B, T, V]`, built from cuDNN-eligible `keras.layers.LSTM`s.
* `encoder`: source ids `[B, S]` -> the flat list of final states
  `[h_1, c_1, ..., h_L, c_L]`, each `[B, units]`.
* `decode_step`: one decoder step on the LSTM cells, for beam search.
"""

import keras
import tensorflow as tf


class Seq2Seq:
    """The encoder-decoder and its training, encoding and decoding views."""

    def __init__(self, config, source_vocab_size, target_vocab_size):
        """Builds the layers and the Keras models.

        Args:
            config: a `config.Config` (num_layers, units, embedding_dim,
                init_scale).
            source_vocab_size: number of source ids, special tokens included.
            target_vocab_size: number of target ids, special tokens included.
        """
        self.num_layers = config.num_layers
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
        self.encoder_layers = [
            _lstm(config.units, init, f"encoder_lstm_{i}", return_sequences=i < self.num_layers - 1)
            for i in range(self.num_layers)
        ]
        self.decoder_layers = [
            _lstm(config.units, init, f"decoder_lstm_{i}", return_sequences=True)
            for i in range(self.num_layers)
        ]
        self.projection = keras.layers.Dense(
            target_vocab_size, kernel_initializer=init, bias_initializer=init, name="softmax"
        )

        source = keras.Input((None,), dtype="int32", name="source")
        target_in = keras.Input((None,), dtype="int32", name="target_in")
        states = self._encode(source)
        logits = self._decode(target_in, states)
        self.training_model = keras.Model(
            {"source": source, "target_in": target_in}, logits, name="seq2seq"
        )
        self.encoder = keras.Model(source, states, name="encoder")

    def _encode(self, source):
        x = self.source_embedding(source)
        states = []
        for layer in self.encoder_layers:
            x, h, c = layer(x)
            states += [h, c]
        return states

    def _decode(self, target_in, states):
        y = self.target_embedding(target_in)
        for i, layer in enumerate(self.decoder_layers):
            y, _, _ = layer(y, initial_state=states[2 * i : 2 * i + 2])
        return self.projection(y)

    def decode_step(self, ids, states):
        """Runs the decoder one step on its LSTM cells (same weights as training).

        Args:
            ids: int32 [N], the previous target token of each hypothesis.
            states: list of 2 * num_layers float32 [N, units]: `[h_1, c_1, ...]`.

        Returns:
            `(log_probs, states)`: float32 [N, target_vocab_size] log-softmax of
            the next token, and the new states in the same layout.
        """
        # A plain lookup: the layer's call would attach a mask the cells ignore.
        x = tf.gather(self.target_embedding.embeddings, ids)
        new_states = []
        for i, layer in enumerate(self.decoder_layers):
            x, (h, c) = layer.cell(x, states[2 * i : 2 * i + 2])
            new_states += [h, c]
        logits = tf.cast(self.projection(x), tf.float32)
        return tf.nn.log_softmax(logits), new_states


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
