"""The next-token candidates of a beam step: each row's k most likely allowed tokens.

`top_tokens` takes log-probs, or `log_softmax.Logits` that it ranks as they
are and normalises only for the candidates it keeps; `<pad>` and `<bos>` are
never candidates. Over a full vocabulary the top-k runs in two cheap passes
(`_top_k_in_blocks`); over a shortlist, in one.
"""

import numpy as np
import tensorflow as tf

from tf_seq2seq import log_softmax
from tf_seq2seq import vocab

# The score of a token that cannot be chosen (and of an empty beam slot).
NEG_INF = -1e9
# Never a next token.
_FORBIDDEN = (vocab.PAD_ID, vocab.BOS_ID)


def top_tokens(scores, k):
    """The `k` most likely next tokens of each row, `<pad>` and `<bos>` excluded.

    Exactly `tf.math.top_k` of the masked log-probs (ties to the lower token
    id). The two special tokens are masked among the `k + 2` best candidates,
    not across the vocabulary, and `Logits` are ranked as they are (the same
    order) and only the kept candidates normalised.

    Args:
        scores: float32 [N, V] log-probs, or `Logits`; V static, or dynamic
            for a shortlist (`shortlist.vocabulary`).
        k: int32 scalar >= 1 (a Python int or a tensor), candidates per row.

    Returns:
        `(values, ids)`: float32 [N, min(k, V)] log-probs, best first
        (`NEG_INF` where a row has fewer than k allowed tokens), and their
        int32 token ids.
    """
    ranked = scores.values if isinstance(scores, log_softmax.Logits) else scores
    vocab_size = ranked.shape[1] or tf.shape(ranked)[1]
    wanted = tf.minimum(k + len(_FORBIDDEN), vocab_size)
    if isinstance(vocab_size, int):
        values, ids, row_max = _top_k_in_blocks(ranked, wanted)
    else:  # A shortlist: a few hundred or thousand tokens, one pass.
        values, ids = tf.math.top_k(ranked, k=wanted)
        row_max = values[:, :1]
    if isinstance(scores, log_softmax.Logits):
        values -= log_softmax.log_sum_exp(scores.values, tf.nn.softmax(scores.values), row_max)
    values = tf.where(_is_forbidden(ids), NEG_INF, values)
    values, keep = tf.math.top_k(values, k=tf.minimum(k, vocab_size))
    return values, tf.gather(ids, keep, batch_dims=1)


def _top_k_in_blocks(ranked, wanted):
    """`tf.math.top_k(ranked, wanted)` in two cheap passes instead of one costly one.

    The rows are cut into about sqrt(V) blocks of adjacent ids, the `wanted`
    blocks with the highest maxima are kept (they hold the `wanted` best
    tokens: a block left out has `wanted` better ones elsewhere), and the
    top-k runs over those blocks only. For a 10k vocabulary at 160 rows this
    is 4x faster than `tf.math.top_k` over whole rows.

    Each row's largest value comes from the block maxima, not from the top-k
    found: under XLA a normaliser that waits for the top-k made the whole
    step 2-3x slower (`bench/decode.py`).

    Args:
        ranked: float32 [N, V], V static.
        wanted: int32 scalar in [1, V].

    Returns:
        `(values, ids, row_max)`: float32 and int32 [N, wanted], best first,
        ties to the lower id; float32 [N, 1], each row's largest value.
    """
    vocab_size = ranked.shape[1]
    width = -(-vocab_size // max(1, round(np.sqrt(vocab_size))))  # Tokens per block.
    blocks = -(-vocab_size // width)
    if blocks * width > vocab_size:
        ranked = tf.pad(ranked, [[0, 0], [0, blocks * width - vocab_size]], constant_values=NEG_INF)
    rows = tf.reshape(ranked, [-1, blocks, width])
    block_maxima = tf.reduce_max(rows, axis=2)
    _, best_blocks = tf.math.top_k(block_maxima, k=tf.minimum(wanted, blocks))
    best_blocks = tf.sort(best_blocks, axis=1)  # In id order, so that ties go to the lower id.
    kept = tf.gather(rows, best_blocks, batch_dims=1)
    values, position = tf.math.top_k(tf.reshape(kept, [tf.shape(kept)[0], -1]), k=wanted)
    ids = tf.gather(best_blocks, position // width, batch_dims=1) * width + position % width
    return values, ids, tf.reduce_max(block_maxima, 1, keepdims=True)


def _is_forbidden(ids):
    """bool, whether each id is `<pad>` or `<bos>`."""
    return (ids == _FORBIDDEN[0]) | (ids == _FORBIDDEN[1])
