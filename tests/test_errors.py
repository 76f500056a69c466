"""errors: Seq2SeqError, the one exception a user's bad input raises, carries the message the CLIs print."""

import pytest

from tf_seq2seq.errors import Seq2SeqError


def test_a_seq2seq_error_is_an_exception_carrying_its_message():
    message = "corpus file not found: data/train.en"
    error = Seq2SeqError(message)
    assert isinstance(error, Exception)
    assert str(error) == message and error.args == (message,)
    with pytest.raises(Exception, match="^corpus file not found: data/train.en$"):
        raise error
