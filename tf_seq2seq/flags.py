"""absl flag definitions shared by the command-line entry points, grouped by concept.

Every `config.Config` field has a flag of the same name, default, help, choices
and group, all taken from the field (`settings._field`); `config_from_flags`
builds the config from them. Flags that are not hyperparameters (paths, the
evaluation split) are defined here too, so `--helpfull` documents them all.
"""

import dataclasses

from absl import flags

from tf_seq2seq import config as config_lib

FLAGS = flags.FLAGS
# Group name -> names of the flags defined in it, in order (for --help).
GROUPS = {}
_grouped = set(FLAGS)  # Flags defined elsewhere (absl's own) belong to no group.


def _end_group(name):
    """Names the group of the flags defined since the previous group ended."""
    GROUPS[name] = tuple(n for n in FLAGS if n not in _grouped and FLAGS[n].name == n)
    _grouped.update(FLAGS)


def _define_config_flags(group):
    """Defines the flag of every `Config` field of `group`: its name, default, help and choices."""
    for field in dataclasses.fields(config_lib.Config):
        metadata = field.metadata
        if metadata["group"] != group:
            continue
        if metadata["choices"]:
            flags.DEFINE_enum(field.name, field.default, list(metadata["choices"]), metadata["help"])
            continue
        definer = {bool: flags.DEFINE_bool, int: flags.DEFINE_integer, float: flags.DEFINE_float}.get(
            type(field.default), flags.DEFINE_string
        )
        bounds = {bound: metadata[bound] for bound in ("lower_bound", "upper_bound")
                  if metadata[bound] is not None}
        definer(field.name, field.default, metadata["help"], **bounds)


for _group in ("data", "model", "training", "distribution"):
    _define_config_flags(_group)
    _end_group(_group)
_define_config_flags("decoding")
flags.DEFINE_bool("warmup_xla", False, "export --jit_compile: also put beam_search_xla requests in "
                  "the TF Serving warm-up file. Only for a server started with "
                  "--xla_cpu_compilation_enabled: otherwise the failed warm-up fails the version load.")
_end_group("decoding")
# Paths and commands.
flags.DEFINE_string("model_dir", None, "Model directory (checkpoints, vocab/, config.json, events). "
                    "evaluate, export and translate also take DIR1,DIR2,...: an ensemble of "
                    "models sharing vocabularies (their per-step log-probs averaged).")
flags.DEFINE_string("checkpoint", "latest", "evaluate, export, translate, analyze with --model_dir: "
                    "'latest', 'best' (best validation BLEU, MODEL_DIR/best/) or a checkpoint "
                    "path such as MODEL_DIR/ckpt-400.")
flags.DEFINE_integer("average_last_checkpoints", 1, "evaluate, export, translate, score with --model_dir: "
                     "use the mean of the weights of the last N checkpoints up to --checkpoint (in the "
                     "order of MODEL_DIR/checkpoint), for each member of an ensemble.", lower_bound=1)
flags.DEFINE_string("export_dir", None, "Export base directory; versions go to EXPORT_DIR/N/.")
flags.DEFINE_string("saved_model", None, "Path of an exported SavedModel version directory.")
flags.DEFINE_string("split", "test", "Split to evaluate.")
flags.DEFINE_string("input", None, "Input file, one sentence per line (default: stdin).")
flags.DEFINE_string("source_file", None, "evaluate: source sentences (one per line) instead of --split.")
flags.DEFINE_string("reference_file", None, "evaluate: references aligned with --source_file.")
flags.DEFINE_string("output", None, "analyze: the PNG file to write (numbers go next to it).")
flags.DEFINE_string("phrases_file", None, "analyze pca and attention: phrases, one per line "
                    "(default: the paper's).")
flags.DEFINE_string("output_dir", None, "evaluate: where eval_NAME.json/.hyp go (default: --model_dir).")
flags.DEFINE_string("source", None, "score: source sentences, one per line.")
flags.DEFINE_string("target", None, "score: their translations, one per line (one score per line out).")
flags.DEFINE_string("nbest", None, "score: a Moses n-best list (ID ||| HYPOTHESIS ||| FEATURES ||| TOTAL) "
                    "of --source's sentences to re-rank with our score as a new feature.")
flags.DEFINE_string("weights", "total=0.5,seq2seq=0.5", "score --nbest: the new total's weights, "
                    "NAME=W,... (NAME=W1:W2 for a feature of several values; total = the list's own "
                    "score). The default averages the list's score and ours, as the paper's rescoring.")
flags.DEFINE_string("feature_name", "seq2seq", "score --nbest: the label of our feature.")
flags.DEFINE_string("nbest_output", None, "score --nbest: write the re-ranked n-best list here "
                    "(the best translations go to stdout).")
flags.DEFINE_integer("num_hypotheses", 1, "Translations per sentence (n-best, <= beam size).",
                     lower_bound=1)
flags.DEFINE_integer("translate_batch_size", 64, "Sentences per translation call.", lower_bound=1)
_end_group("input and output")

CONFIG_FLAGS = tuple(f.name for f in dataclasses.fields(config_lib.Config))


def config_from_flags():
    """A `config.Config` with every field taken from its flag."""
    return config_lib.Config(**{name: FLAGS[name].value for name in CONFIG_FLAGS})


DECODING_FLAGS = config_lib.field_names(group="decoding")
# Decoding flags that only shape an export (its request limit and XLA signature).
EXPORT_FLAGS = ("max_batch_size", "jit_compile")
# The decoding flags of translate and evaluate.
TRANSLATION_FLAGS = tuple(name for name in DECODING_FLAGS if name not in EXPORT_FLAGS)


def with_decoding_flags(config):
    """`config` with the decoding flags given on the command line applied."""
    return config.replace(**{name: FLAGS[name].value for name in DECODING_FLAGS if FLAGS[name].present})


def nbest_beam_size(config):
    """The beam size for `--num_hypotheses`: `--beam_size` if given, else the
    model's beam widened to the number of hypotheses asked for."""
    if FLAGS["beam_size"].present:
        return config.beam_size
    return max(config.beam_size, FLAGS.num_hypotheses)


def model_dirs():
    """`--model_dir` split at commas: one directory, or the members of an ensemble."""
    return [d for d in FLAGS.model_dir.split(",") if d]


def config_for_model_dir(model_dir):
    """The model directory's saved config, with decoding flags given on the command line applied."""
    return with_decoding_flags(config_lib.load(model_dir))
