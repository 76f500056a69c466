"""absl flag definitions shared by the command-line entry points, grouped by concept.

Every `config.Config` field has a flag of the same name and default; `config_from_flags`
builds the config from them. Flags that are not hyperparameters (paths, the
evaluation split) are defined here too, so `--helpfull` documents them all.
"""

import dataclasses

from absl import flags

from tf_seq2seq import config as config_lib

FLAGS = flags.FLAGS
_DEFAULTS = config_lib.Config()
# Group name -> names of the flags defined in it, in order (for --help).
GROUPS = {}
_grouped = set(FLAGS)  # Flags defined elsewhere (absl's own) belong to no group.


def _end_group(name):
    """Names the group of the flags defined since the previous group ended."""
    GROUPS[name] = tuple(n for n in FLAGS if n not in _grouped and FLAGS[n].name == n)
    _grouped.update(FLAGS)


def _define(name, help_text, definer=None):
    """Defines a flag whose default is the matching `Config` field's default."""
    default = getattr(_DEFAULTS, name)
    if definer is None:
        definer = {bool: flags.DEFINE_bool, int: flags.DEFINE_integer, float: flags.DEFINE_float}.get(
            type(default), flags.DEFINE_string
        )
    definer(name, default, help_text)


# Data.
_define("dataset", "Corpus: 'sample' (bundled Tatoeba En-Fr sample), 'files:DIR' "
        "(DIR/SPLIT.LANG[.gz], aligned lines), 'tsv:DIR' (DIR/SPLIT.tsv[.gz], one "
        "source<TAB>target pair per line) or 'tfds:NAME' (e.g. tfds:wmt14_translate/fr-en).")
_define("data_dir", "TensorFlow Datasets data directory for tfds: corpora ('' = TFDS default).")
_define("train_split", "Split to train on.")
_define("eval_split", "Validation split.")
_define("test_split", "Test split.")
_define("source_lang", "Source language code (file suffix / TFDS feature).")
_define("target_lang", "Target language code (file suffix / TFDS feature).")
_define("reverse_source", "Reverse the source sentence in the graph (the paper's trick).")
_define("max_source_length", "Drop training pairs whose source has more tokens; "
        "truncate longer inputs at translation time.")
_define("max_target_length", "Drop training pairs whose target has more tokens.")
flags.DEFINE_enum("tokenizer", _DEFAULTS.tokenizer, ["word", "wordpiece"],
                  "word: the paper's most frequent words, the rest <unk>; wordpiece: subword "
                  "pieces learnt from the training split (tensorflow-text's WordPiece).")
_define("source_vocab_size", "Source vocabulary size incl. 4 special tokens (paper: 160000).")
_define("target_vocab_size", "Target vocabulary size incl. 4 special tokens (paper: 80000).")
_define("shuffle_buffer", "Sentence pairs in the (bounded, seeded) shuffle buffer.")
_end_group("data")
# Model.
_define("num_layers", "LSTM layers in the encoder and in the decoder (paper: 4).")
_define("units", "LSTM cells per layer (paper: 1000).")
_define("embedding_dim", "Word embedding size (paper: 1000).")
_define("init_scale", "Every parameter starts uniform in [-init_scale, init_scale] (paper: 0.08).")
_define("dropout", "Dropout rate between layers (not recurrent, so cuDNN stays usable; paper: 0).")
flags.DEFINE_enum("attention", _DEFAULTS.attention, ["none", "luong", "bahdanau"],
                  "Beyond the paper: the top decoder layer attends over the encoder outputs. "
                  "none: the paper's model; luong (recommended): Luong's 'general' score; "
                  "bahdanau: the additive score. Neither feeds the context back into the "
                  "LSTMs, so they stay cuDNN-eligible.")
_end_group("model")
# Training.
flags.DEFINE_enum("optimizer", _DEFAULTS.optimizer, ["sgd", "adam"],
                  "Optimizer (paper: sgd with --learning_rate=0.7).")
_define("learning_rate", "Initial learning rate (paper: 0.7 with sgd).")
_define("decay_start_epoch", "Start decaying the learning rate after this many epochs; "
        "0 = constant learning rate (paper: 5).")
_define("decay_every_epochs", "Multiply the learning rate by --decay_factor every this many "
        "epochs once decay has started (paper: 0.5).")
_define("decay_factor", "Learning-rate decay factor (paper: 0.5, halving).")
_define("clip_norm", "Clip the global gradient norm to this value; 0 disables (paper: 5).")
flags.DEFINE_enum("mixed_precision", _DEFAULTS.mixed_precision, ["", "mixed_float16", "mixed_bfloat16"],
                  "Mixed precision policy: '' (float32), mixed_float16 (GPU, with loss scaling) "
                  "or mixed_bfloat16 (TPU, recent CPUs/GPUs). Softmax and loss stay float32.")
_define("batch_size", "Sentence pairs per training step, over all replicas (paper: 128).")
_define("batch_tokens", "If > 0, batch by tokens instead of sentences: each step holds as many "
        "length-bucketed pairs as fit in this many padded tokens per side (over all replicas).")
_define("vocab_sample_size", "Build the vocabularies from the first this many training pairs "
        "only; 0 = all (streamed, memory grows with distinct words only).")
_define("epochs", "Stop after this many passes over the training split (a fraction stops "
        "part-way through the last one; paper: 7.5); 0 = no epoch limit. Neither this nor "
        "--train_steps given: 1 epoch. Re-running with a larger value continues.")
_define("train_steps", "Stop when the global step reaches this; 0 = no step limit. With --epochs "
        "too, the first limit reached ends the run. Re-running with a larger value continues.")
_define("checkpoint_every_steps", "Write a checkpoint every this many steps.")
_define("keep_checkpoints", "Checkpoints kept in the model directory.")
_define("log_every_steps", "Log progress and write TensorBoard scalars every this many steps.")
_define("seed", "Random seed (initialisation, shuffling).")
_define("eval_every_steps", "Evaluate on --eval_split every this many steps (perplexity and "
        "BLEU; keeps the best checkpoint by BLEU in MODEL_DIR/best/); 0 = never.")
_define("eval_sentences", "Distinct source sentences of --eval_split scored by evaluation during "
        "training, sampled evenly over the split with a fixed seed (the same in every run).")
_define("eval_beam_size", "Beam size of evaluation during training (1 = greedy, fastest).")
_define("early_stopping_patience", "Stop after this many evaluations without a better BLEU; 0 = never.")
_end_group("training")
# Distribution.
flags.DEFINE_enum("distribution", _DEFAULTS.distribution,
                  ["auto", "one_device", "mirrored", "multi_worker", "tpu"],
                  "tf.distribute strategy: auto (all local GPUs if several, else one device), "
                  "one_device (--device), mirrored (--num_gpus, or --cpu_replicas on CPU), "
                  "multi_worker (the cluster in TF_CONFIG; see BUILD.md) or tpu (--tpu).")
_define("device", "Device for --distribution=one_device, e.g. /gpu:1 (default: first GPU, else CPU).")
_define("num_gpus", "GPUs used by --distribution=mirrored; 0 = all.")
_define("cpu_replicas", "Split the CPU into this many logical devices (replicas of "
        "--distribution=mirrored without GPUs, or --layer_devices targets; for testing).")
flags.DEFINE_enum("collective", _DEFAULTS.collective, ["auto", "ring", "nccl"],
                  "multi_worker all-reduce implementation (nccl: GPUs only).")
_define("peer_timeout", "Seconds to wait for cluster peers (joining, each all-reduce) or a TPU "
        "before failing; also bounds how long the chief may pause (validation) while others wait.")
_define("tpu", "--distribution=tpu: the TPU name or grpc://HOST:PORT address.")
_define("layer_devices", "Model parallelism, the paper's one layer per GPU: comma-separated "
        "devices for the embeddings, each LSTM layer (encoder and decoder layer i together) and "
        "the softmax, num_layers + 2 entries, e.g. /gpu:0,/gpu:0,/gpu:1,/gpu:2,/gpu:3,/gpu:3. "
        "One replica; not with --distribution=mirrored.")
_end_group("distribution")
# Decoding.
_define("beam_size", "Beam size (1 = greedy; paper: 12).")
_define("length_penalty", "GNMT length normalisation alpha: hypotheses are ranked by "
        "log-prob / ((5 + length) / 6) ** alpha; 0 = plain summed log-prob (the paper).")
flags.register_validator("length_penalty", lambda value: value >= 0,
                         "--length_penalty must be >= 0")
_define("max_decode_ratio", "Generate at most ratio x source length (+10) tokens.")
_define("max_decode_length", "Generate at most this many tokens.")
_define("max_batch_size", "Exported model: requests with more sentences are rejected (InvalidArgument).")
_define("jit_compile", "Export: also write a `beam_search_xla` signature whose integer decoding "
        "loop is compiled with XLA at fixed padded shapes (the default signatures never need XLA).")
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
flags.DEFINE_integer("num_hypotheses", 1, "Translations per sentence (n-best, <= beam size).")
flags.DEFINE_integer("translate_batch_size", 64, "Sentences per translation call.")
_end_group("input and output")

CONFIG_FLAGS = tuple(f.name for f in dataclasses.fields(config_lib.Config))


def config_from_flags():
    """A `config.Config` with every field taken from its flag."""
    return config_lib.Config(**{name: FLAGS[name].value for name in CONFIG_FLAGS})


DECODING_FLAGS = (
    "beam_size", "length_penalty", "max_decode_ratio", "max_decode_length", "max_batch_size",
    "jit_compile",
)


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
