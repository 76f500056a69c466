"""The export: a `translator.Translator` as a SavedModel for TF Serving, and loading it back.

`export` writes the translator in TF Serving's layout (`EXPORT_DIR/VERSION/`)
with these signatures:

* `serving_default`: `sentences` string [None] -> `translations` string
  [None], `scores` float32 [None] (summed log-prob), `truncated` bool [None],
  default beam size.
* `beam_search`: `sentences` string [None], `beam_size` int32 [],
  `num_hypotheses` int32 [] -> `translations` string [None, None], `scores`
  float32 [None, None] (summed log-probs), `normalized_scores` float32
  [None, None] (the ranking, with the export's length penalty), best first,
  `truncated` bool [None].
* `score`: `sentences` string [None], `translations` string [None] ->
  `log_probs` float32 [None] (each translation's summed token log-probs,
  `<eos>` included; an ensemble's per-step log-probs averaged as in decoding),
  `lengths` int32 [None] (the tokens scored), `normalized_scores` float32
  [None] (with the export's length penalty), `token_log_probs` float32
  [None, None] (0 after a translation's end), `truncated` bool [None] (the
  source cut to `max_source_length` tokens or the translation to
  `max_decode_length`): normalised over every target word, so a hypothesis
  of `beam_search_full_softmax` (of `beam_search` without a shortlist) scores
  what the search reported for it; a shortlist's search normalises over its
  shortlist only, and reports at least as much.
* `encode`: `sentences` string [None] -> `vectors` float32 [None, D], the
  encoder's final states (D = 2 x layers x units).
* `beam_search_full_softmax` (only with `shortlist`): the default signatures
  then search each request's vocabulary shortlist (`shortlist`); this one,
  as `beam_search`, searches every target word.
* `beam_search_xla` (only with `jit_compile`): as `beam_search`, with the
  integer decoding loop compiled by XLA at fixed shapes (batch padded to a
  power of two, target length to its maximum); tokenizing and encoding stay
  outside XLA.

An export with `replace_unknown_target` writes each `<unk>` of the translating
signatures as its most attended source word (`unknown_words`).

Each version carries `assets.extra/config.json` (the export's config) and
`assets.extra/tf_serving_warmup_requests` (`predict_requests`). The warm-up
file leaves `beam_search_xla` out unless asked (`warmup_xla`): TF Serving
disables XLA unless started with `--xla_cpu_compilation_enabled`, and one
failed warm-up request fails the whole version load.

The default graphs use only core TensorFlow and tensorflow-text ops and need
no XLA. Load them after `import tensorflow_text`, or with `load`, which
registers only the tensorflow-text ops they use (`text_ops`).
"""

import os
import re
import shutil

import keras
import tensorflow as tf
from google.protobuf import message, text_format
from tensorflow.core.protobuf import saved_model_pb2

from tf_seq2seq import config as config_lib
from tf_seq2seq import predict_requests
from tf_seq2seq import text_ops
from tf_seq2seq import loading
from tf_seq2seq import vocab
from tf_seq2seq.errors import Seq2SeqError


def export_model_dir(config, model_dir, export_dir, checkpoint="latest", warmup_xla=False, average_last=1):
    """Exports a model directory's latest checkpoint (or several, as an ensemble).

    Args:
        config: the (first) model's config, with decoding overrides; written
            to the version's `assets.extra/config.json`.
        model_dir: a model directory, or a list of them (an ensemble).
        export_dir: the export base directory.
        checkpoint: which checkpoint of each model (`model.Seq2Seq.restore`).
        warmup_xla: also warm up `beam_search_xla` (see `export`).
        average_last: export each model's weights averaged over its last this
            many checkpoints up to `checkpoint`.

    Returns:
        The version path.
    """
    model_dirs = model_dir if isinstance(model_dir, (list, tuple)) else [model_dir]
    translator, _ = loading.from_model_dirs(
        config, model_dirs, checkpoint, keep_decode_weights=True, average_last=average_last
    )
    return export(translator, export_dir, config, warmup_xla)


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
        translator: a `translator.Translator`.
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
        ("score", translator.score_signature),
        ("encode", translator.encode_signature),
    ]
    if translator.shortlist is not None:
        endpoints.append(("beam_search_full_softmax", translator.beam_search_full_softmax))
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
    """Writes TF Serving's warm-up requests: each signature on inputs of growing length
    (`score` on translations of as many target words)."""
    sentences, translations = (
        predict_requests.warmup_sentences(
            [t for t in vocab.read(tokenizer.vocab_path) if t.isalpha()][:100], config.max_source_length
        )
        for tokenizer in (translator.source_tokenizer, translator.target_tokenizer)
    )
    model_name = os.path.basename(os.path.normpath(export_dir))
    requests = predict_requests.warmup_requests(model_name, sentences, config.beam_size, signatures, translations)
    predict_requests.write_warmup_file(path, requests)


def _where_the_saved_model_is(path):
    """A hint for a `path` that holds no SavedModel: its versions, or that it is a model directory."""
    if config_lib.exists(path):
        return ": it is a training model directory (give it as --model_dir, or export it first)"
    versions = sorted(
        (name for name in (os.listdir(path) if os.path.isdir(path) else ()) if name.isdigit()), key=int
    )
    if versions:
        return f": it holds the versions {', '.join(versions)}; name one, e.g. {os.path.join(path, versions[-1])}"
    return ""


def load(path):
    """Loads an exported translator SavedModel (`tf.saved_model.load`).

    Registers the tensorflow-text ops the graph uses first (`text_ops.register`):
    a word model's graph loads two of its op libraries, a wordpiece model's three.

    Raises:
        Seq2SeqError: if `path` is not a SavedModel directory.
    """
    if not tf.saved_model.contains_saved_model(path):
        raise Seq2SeqError(f"no SavedModel at {path}{_where_the_saved_model_is(path)}")
    text_ops.register(op_types(path))
    return tf.saved_model.load(path)


def op_types(path):
    """The op types of every graph and graph function of the SavedModel at `path`.

    Returns:
        set of str, e.g. `{"MatMul", "RegexSplitWithOffsets", ...}`.

    Raises:
        Seq2SeqError: if its graph file cannot be parsed (`read_saved_model`).
    """
    types = set()
    for meta_graph in read_saved_model(path).meta_graphs:
        types.update(node.op for node in meta_graph.graph_def.node)
        for function in meta_graph.graph_def.library.function:
            types.update(node.op for node in function.node_def)
    return types


def read_saved_model(path):
    """The `SavedModel` proto (its graphs) of the SavedModel at `path`.

    Reads `saved_model.pb`, or `saved_model.pbtxt` as TensorFlow does without it.

    Raises:
        Seq2SeqError: if the file cannot be parsed (e.g. truncated), naming it.
    """
    saved_model = saved_model_pb2.SavedModel()
    binary = os.path.join(path, "saved_model.pb")
    graph_file = binary if tf.io.gfile.exists(binary) else binary + "txt"
    with tf.io.gfile.GFile(graph_file, "rb") as f:
        content = f.read()
    try:
        if graph_file == binary:
            saved_model.ParseFromString(content)
        else:
            text_format.Parse(content, saved_model)
    except (message.DecodeError, text_format.ParseError) as error:
        raise Seq2SeqError(f"{graph_file} cannot be read ({error}): export the model again") from error
    return saved_model
