"""Every setting of a run, by group: its default, its flag's help, and the values it may take.

Each group is a frozen dataclass of fields made by `_field`, whose metadata
`flags.py` defines the flags from and `config.Config` validates against;
`config.Config` is all the groups in one.
"""

import dataclasses

# The choices of the fields that take one of a few values (flags and library share them).
TOKENIZERS = ("word", "wordpiece")
OPTIMIZERS = ("sgd", "adam")
PRECISION_POLICIES = ("", "mixed_float16", "mixed_bfloat16")
DISTRIBUTIONS = ("auto", "one_device", "mirrored", "multi_worker", "tpu")
COLLECTIVES = ("auto", "ring", "nccl")
ATTENTIONS = ("none", "luong", "bahdanau")
LOSS_NORMALIZATIONS = ("sentences", "tokens")
# Default `--bucket_width`. Narrower buckets pad less but learnt slower per step: test2016
# BLEU after 2000 Multi30k steps was 11.25 (width 1), 11.31 (3), 11.97 (5) (docs/performance.md).
BUCKET_WIDTH = 5


def _field(default, group, help_text, choices=(), model=False, ensemble=False, lower_bound=None,
           upper_bound=None):
    """A setting: a dataclass field with the metadata its flag is defined from (`flags.py`).

    Args:
        default: the default value (also the flag's).
        group: the flag group of `--help` (`data`, `model`, `training`,
            `distribution` or `decoding`).
        help_text: the flag's help.
        choices: the allowed values, if only a few are (an enum flag).
        model: whether the field defines the trained weights and vocabularies
            (a model directory refuses to resume when it differs).
        ensemble: whether every member of an ensemble must share it.
        lower_bound: the least value its flag accepts (a number field), if any.
        upper_bound: the largest value its flag accepts (a number field), if any.
    """
    metadata = {"group": group, "help": help_text, "choices": choices, "model": model,
                "ensemble": ensemble, "lower_bound": lower_bound, "upper_bound": upper_bound}
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class DataSettings:
    """The corpus, its languages and splits, tokenization and length limits."""

    dataset: str = _field(
        "sample", "data",
        "Corpus: 'sample' (bundled Tatoeba En-Fr sample), 'files:DIR' (DIR/SPLIT.LANG[.gz], "
        "aligned lines), 'tsv:DIR' (DIR/SPLIT.tsv[.gz], one source<TAB>target pair per line) "
        "or 'tfds:NAME' (e.g. tfds:wmt14_translate/fr-en).",
    )
    data_dir: str = _field(
        "", "data", "TensorFlow Datasets data directory for tfds: corpora ('' = TFDS default).",
    )
    train_split: str = _field("train", "data", "Split to train on.")
    eval_split: str = _field("val", "data", "Validation split.")
    test_split: str = _field("test", "data", "Test split.")
    source_lang: str = _field(
        "en", "data", "Source language code (file suffix / TFDS feature).", model=True, ensemble=True,
    )
    target_lang: str = _field(
        "fr", "data", "Target language code (file suffix / TFDS feature).", model=True, ensemble=True,
    )
    reverse_source: bool = _field(
        True, "data", "Reverse the source sentence in the graph (the paper's trick).",
        model=True, ensemble=True,
    )
    max_source_length: int = _field(
        50, "data",
        "Drop training pairs whose source has more tokens; truncate longer inputs at "
        "translation time.",
        lower_bound=1,
    )
    max_target_length: int = _field(
        50, "data", "Drop training pairs whose target has more tokens.", lower_bound=1,
    )
    tokenizer: str = _field(
        "word", "data",
        "word: the paper's most frequent words, the rest <unk>; wordpiece: subword pieces "
        "learnt from the training split (tensorflow-text's WordPiece).",
        choices=TOKENIZERS, model=True, ensemble=True,
    )
    source_vocab_size: int = _field(
        8000, "data", "Source vocabulary size incl. 4 special tokens (paper: 160000).", model=True,
        lower_bound=5,
    )
    target_vocab_size: int = _field(
        8000, "data", "Target vocabulary size incl. 4 special tokens (paper: 80000).", model=True,
        lower_bound=5,
    )
    shuffle_buffer: int = _field(
        10000, "data", "Sentence pairs in the (bounded, seeded) shuffle buffer.", lower_bound=1,
    )


@dataclasses.dataclass(frozen=True)
class ModelSettings:
    """The network: its size, initialisation, dropout and attention."""

    num_layers: int = _field(
        2, "model", "LSTM layers in the encoder and in the decoder (paper: 4).", model=True, lower_bound=1,
    )
    units: int = _field(256, "model", "LSTM cells per layer (paper: 1000).", model=True, lower_bound=1)
    embedding_dim: int = _field(256, "model", "Word embedding size (paper: 1000).", model=True, lower_bound=1)
    init_scale: float = _field(
        0.08, "model", "Every parameter starts uniform in [-init_scale, init_scale] (paper: 0.08).",
        lower_bound=0.0,
    )
    dropout: float = _field(
        0.0, "model", "Dropout rate between layers (not recurrent, so cuDNN stays usable; paper: 0).",
        lower_bound=0.0, upper_bound=1.0,
    )
    attention: str = _field(
        "none", "model",
        "Beyond the paper: the top decoder layer attends over the encoder outputs. none: the "
        "paper's model; luong (recommended): Luong's 'general' score; bahdanau: the additive "
        "score. Neither feeds the context back into the LSTMs, so they stay cuDNN-eligible.",
        choices=ATTENTIONS, model=True,
    )


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """The optimizer, its schedule, batching, run length, checkpoints and evaluation."""

    optimizer: str = _field(
        "adam", "training", "Optimizer (paper: sgd with --learning_rate=0.7).", choices=OPTIMIZERS,
    )
    learning_rate: float = _field(
        0.001, "training", "Initial learning rate (paper: 0.7 with sgd).", lower_bound=0.0,
    )
    decay_start_epoch: float = _field(
        0.0, "training",
        "Start decaying the learning rate after this many epochs; 0 = constant learning rate "
        "(paper: 5).",
        lower_bound=0.0,
    )
    decay_every_epochs: float = _field(
        0.5, "training",
        "Multiply the learning rate by --decay_factor every this many epochs once decay has "
        "started (paper: 0.5).",
        lower_bound=0.0,
    )
    decay_factor: float = _field(
        0.5, "training", "Learning-rate decay factor (paper: 0.5, halving).", lower_bound=0.0,
    )
    clip_norm: float = _field(
        5.0, "training", "Clip the global gradient norm to this value; 0 disables (paper: 5).",
        lower_bound=0.0,
    )
    loss_normalization: str = _field(
        "sentences", "training",
        "What the summed token losses of a step are divided by: sentences (the paper's "
        "Section 3.4, OpenNMT-py's and OpenNMT-tf's default: the gradient of the mean sentence "
        "loss, so --clip_norm acts on the paper's scale) or tokens (the mean token loss, "
        "~1/average-target-length the gradient). Counted over all replicas and workers.",
        choices=LOSS_NORMALIZATIONS,
    )
    adam_epsilon: float = _field(
        1e-8, "training", "Adam's epsilon (PyTorch's and the Adam paper's 1e-8; Keras' default is 1e-7).",
        lower_bound=0.0,
    )
    mixed_precision: str = _field(
        "", "training",
        "Mixed precision policy: '' (float32), mixed_float16 (GPU, with loss scaling) or "
        "mixed_bfloat16 (TPU, recent CPUs/GPUs). Softmax and loss stay float32.",
        choices=PRECISION_POLICIES,
    )
    batch_size: int = _field(
        64, "training", "Sentence pairs per training step, over all replicas (paper: 128).", lower_bound=1,
    )
    bucket_width: int = _field(
        BUCKET_WIDTH, "training",
        "Pairs are batched with others whose longer side is in the same range of this many "
        "tokens. 1 pads least (9% of Multi30k's positions, 5: 18%) but learnt slower per step "
        "(docs/performance.md, Bucket width).",
        lower_bound=1,
    )
    batch_tokens: int = _field(
        0, "training",
        "If > 0, batch by tokens instead of sentences: each step holds as many length-bucketed "
        "pairs as fit in this many padded tokens per side (over all replicas).",
        lower_bound=0,
    )
    vocab_sample_size: int = _field(
        0, "training",
        "Build the vocabularies from the first this many training pairs only; 0 = all "
        "(streamed, memory grows with distinct words only).",
        lower_bound=0,
    )
    epochs: float = _field(
        0.0, "training",
        "Stop after this many passes over the training split (a fraction stops part-way "
        "through the last one; paper: 7.5); 0 = no epoch limit. Neither this nor --train_steps "
        "given: 1 epoch. Re-running with a larger value continues.",
        lower_bound=0.0,
    )
    train_steps: int = _field(
        0, "training",
        "Stop when the global step reaches this; 0 = no step limit. With --epochs too, the "
        "first limit reached ends the run. Re-running with a larger value continues.",
        lower_bound=0,
    )
    checkpoint_every_steps: int = _field(
        500, "training", "Write a checkpoint every this many steps.", lower_bound=1,
    )
    keep_checkpoints: int = _field(3, "training", "Checkpoints kept in the model directory.", lower_bound=1)
    log_every_steps: int = _field(
        50, "training", "Log progress and write TensorBoard scalars every this many steps.", lower_bound=1,
    )
    seed: int = _field(1234, "training", "Random seed (initialisation, shuffling).")
    eval_every_steps: int = _field(
        0, "training",
        "Evaluate on --eval_split every this many steps (perplexity and BLEU; keeps the best "
        "checkpoint by BLEU in MODEL_DIR/best/); 0 = never.",
        lower_bound=0,
    )
    eval_sentences: int = _field(
        200, "training",
        "Distinct source sentences of --eval_split scored by evaluation during training, "
        "sampled evenly over the split with a fixed seed (the same in every run).",
        lower_bound=1,
    )
    eval_beam_size: int = _field(
        1, "training", "Beam size of evaluation during training (1 = greedy, fastest).", lower_bound=1,
    )
    early_stopping_patience: int = _field(
        0, "training", "Stop after this many evaluations without a better BLEU; 0 = never.", lower_bound=0,
    )


@dataclasses.dataclass(frozen=True)
class DistributionSettings:
    """How training is spread over devices and workers."""

    distribution: str = _field(
        "auto", "distribution",
        "tf.distribute strategy: auto (all local GPUs if several, else one device), one_device "
        "(--device), mirrored (--num_gpus, or --cpu_replicas on CPU), multi_worker (the "
        "cluster in TF_CONFIG; see BUILD.md) or tpu (--tpu).",
        choices=DISTRIBUTIONS,
    )
    device: str = _field(
        "", "distribution",
        "Device for --distribution=one_device, e.g. /gpu:1 (default: first GPU, else CPU).",
    )
    num_gpus: int = _field(0, "distribution", "GPUs used by --distribution=mirrored; 0 = all.", lower_bound=0)
    cpu_replicas: int = _field(
        0, "distribution",
        "Split the CPU into this many logical devices (replicas of --distribution=mirrored "
        "without GPUs, or --layer_devices targets; for testing).",
        lower_bound=0,
    )
    collective: str = _field(
        "auto", "distribution", "multi_worker all-reduce implementation (nccl: GPUs only).",
        choices=COLLECTIVES,
    )
    peer_timeout: float = _field(
        600.0, "distribution",
        "Seconds to wait for cluster peers (joining, each all-reduce) or a TPU before failing; "
        "also bounds how long the chief may pause (validation) while others wait.",
        lower_bound=0.0,
    )
    tpu: str = _field("", "distribution", "--distribution=tpu: the TPU name or grpc://HOST:PORT address.")
    layer_devices: str = _field(
        "", "distribution",
        "Model parallelism, the paper's one layer per GPU: comma-separated devices for the "
        "embeddings, each LSTM layer (encoder and decoder layer i together) and the softmax, "
        "num_layers + 2 entries, e.g. /gpu:0,/gpu:0,/gpu:1,/gpu:2,/gpu:3,/gpu:3. One replica; "
        "not with --distribution=mirrored.",
    )


@dataclasses.dataclass(frozen=True)
class DecodingSettings:
    """How translations are searched for and exported."""

    beam_size: int = _field(4, "decoding", "Beam size (1 = greedy; paper: 12).", lower_bound=1)
    length_penalty: float = _field(
        0.0, "decoding",
        "GNMT length normalisation alpha: hypotheses are ranked by log-prob / ((5 + length) / "
        "6) ** alpha; 0 = plain summed log-prob (the paper).",
        lower_bound=0.0,
    )
    max_decode_ratio: float = _field(
        2.0, "decoding", "Generate at most ratio x source length (+10) tokens.", lower_bound=0.0,
    )
    max_decode_length: int = _field(100, "decoding", "Generate at most this many tokens.", lower_bound=1)
    replace_unknown_target: bool = _field(
        False, "decoding",
        "Replace each <unk> of a translation by the source word the model attended to most when "
        "writing it (attention models only; an export option too).",
    )
    max_batch_size: int = _field(
        256, "decoding", "Exported model: requests with more sentences are rejected (InvalidArgument).",
        lower_bound=1,
    )
    shortlist: bool = _field(
        True, "decoding",
        "Restrict each request's softmax to a vocabulary shortlist learnt from the training "
        "split (its source words' likely translations plus the most frequent target words; "
        "one pass over the split on first use, kept in MODEL_DIR/shortlist_counts.npz), so "
        "decoding reads those rows only: 1.8-3.2x faster at the same BLEU. An export keeps "
        "the full softmax in its beam_search_full_softmax signature; --noshortlist decodes "
        "with the full softmax everywhere.",
    )
    shortlist_words: int = _field(
        20, "decoding", "--shortlist: candidate target words per source word.", lower_bound=1,
    )
    shortlist_frequent: int = _field(
        200, "decoding", "--shortlist: the most frequent target words, always candidates.", lower_bound=0,
    )
    jit_compile: bool = _field(
        False, "decoding",
        "Export: also write a `beam_search_xla` signature whose integer decoding loop is "
        "compiled with XLA at fixed padded shapes (the default signatures never need XLA).",
    )
