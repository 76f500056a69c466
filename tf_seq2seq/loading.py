"""Translators loaded from trained model directories: one model, or several as an ensemble.

`from_model_dirs` checks that ensemble members share tokenizer, vocabularies
and source order, builds each in the precision it serves in, restores (or
averages) its checkpoints, and learns or reads the first model's vocabulary
shortlist; the `translator.Translator` it returns serves in-process
(validation, evaluation, the commands) and is what `serving` exports.
"""

from tf_seq2seq import config as config_lib
from tf_seq2seq import model as model_lib
from tf_seq2seq import precision
from tf_seq2seq import shortlist as shortlist_lib
from tf_seq2seq import tokenizer as tokenizer_lib
from tf_seq2seq import translator as translator_lib
from tf_seq2seq import vocab
from tf_seq2seq.errors import Seq2SeqError


def from_model_dirs(config, model_dirs, checkpoint="latest", keep_decode_weights=False, average_last=1):
    """A `translator.Translator` of one model directory, or of several as an ensemble.

    Args:
        config: the first model's `config.Config` (decoding settings apply to
            all; with `shortlist`, the shortlist is learnt from the first
            model's training split, `shortlist.for_model_dir`).
        model_dirs: list of model directories sharing vocabularies.
        checkpoint: which checkpoint of each (`model.Seq2Seq.restore`).
        keep_decode_weights: see `translator.Translator`.
        average_last: each member's weights averaged over its last this many
            checkpoints up to `checkpoint` (`model.Seq2Seq.restore`).

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
        with precision.serving_precision(member_config):
            seq2seq = model_lib.for_model_dir(member_config, model_dir)
        checkpoints.append(seq2seq.restore(model_dir, checkpoint, average_last))
        models.append(seq2seq)
    source_tokenizer, target_tokenizer = tokenizer_lib.from_model_dir(model_dirs[0], config.tokenizer)
    shortlist = shortlist_lib.for_model_dir(
        config, model_dirs[0], config.shortlist_words, config.shortlist_frequent
    ) if config.shortlist else None
    translator = translator_lib.Translator(models, source_tokenizer, target_tokenizer, config, keep_decode_weights, shortlist)
    return translator, checkpoints



def _check_same_vocabularies(first_dir, first_config, model_dir, config):
    """Raises `Seq2SeqError` unless `model_dir` can join `first_dir`'s ensemble."""
    for field in config_lib.ENSEMBLE_FIELDS:
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



def from_model_dir(config, model_dir):
    """A `translator.Translator` with a model directory's vocabularies and latest weights.

    Returns:
        `(translator, checkpoint_path)`.
    """
    translator, checkpoints = from_model_dirs(config, [model_dir])
    return translator, checkpoints[0]
