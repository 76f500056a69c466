"""bounds.py: the decode length of a source and the padded batch sizes of an XLA search."""

import pytest
import tensorflow as tf

from tf_seq2seq import bounds


@pytest.mark.parametrize("source_length", [0, 1, 7, 30, 200])
def test_decode_length_is_the_ratio_plus_slack_capped_the_same_for_ints_and_tensors(source_length):
    ratio, cap = 1.5, 100
    expected = min(-(-3 * source_length // 2) + bounds.DECODE_LENGTH_SLACK, cap)
    assert bounds.decode_length(source_length, ratio, cap) == expected
    assert int(bounds.decode_length(tf.constant(source_length), ratio, cap)) == expected


def test_padded_batch_sizes_are_the_least_power_of_two_up_to_the_largest_batch():
    padded = [int(bounds.padded_batch_size(tf.constant(batch), 256)) for batch in range(1, 257)]
    assert padded == [1 << (batch - 1).bit_length() for batch in range(1, 257)]
    assert len(set(padded)) == 9  # 1, 2, ..., 256: at most log2(256) + 1 programs per beam size.
    assert int(bounds.padded_batch_size(tf.constant(5), 5)) == 8
