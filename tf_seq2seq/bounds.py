"""The bounds of one request's work: the longest output a source may get, and XLA's padded batch sizes.

`decode_length` caps a search at `max_decode_ratio` x the source length (plus
`DECODE_LENGTH_SLACK`) and at `max_decode_length`; `padded_batch_size` pads an
XLA-compiled search's batch to a power of two, so a server compiles few programs.
"""

import math

import tensorflow as tf

# Decoding may emit this many tokens beyond `max_decode_ratio` x source length.
DECODE_LENGTH_SLACK = 10


def decode_length(source_length, max_decode_ratio, max_decode_length):
    """The most target tokens to generate for sources of `source_length` tokens.

    Args:
        source_length: int32 scalar tensor or Python int.
        max_decode_ratio: generate at most this many tokens per source token,
            plus `DECODE_LENGTH_SLACK`.
        max_decode_length: and never more than this many.

    Returns:
        int32 scalar (a Python int for a Python int).
    """
    if isinstance(source_length, int):
        length = math.ceil(max_decode_ratio * source_length)
        return min(length + DECODE_LENGTH_SLACK, max_decode_length)
    length = tf.math.ceil(max_decode_ratio * tf.cast(source_length, tf.float32))
    return tf.minimum(tf.cast(length, tf.int32) + DECODE_LENGTH_SLACK, max_decode_length)


def padded_batch_size(batch, max_batch_size):
    """The batch size an XLA-compiled search pads `batch` sentences to: a power of two.

    XLA compiles once per padded batch size and beam size, so a server
    compiles at most log2(max_batch_size) + 1 programs per beam size.

    Args:
        batch: int32 scalar tensor, at most `max_batch_size`.
        max_batch_size: Python int, the most sentences of a request.

    Returns:
        int32 scalar, the least power of two >= `batch`.
    """
    sizes = tf.constant([2**i for i in range(max(max_batch_size - 1, 1).bit_length() + 1)])
    return tf.gather(sizes, tf.searchsorted(sizes, [batch])[0])
