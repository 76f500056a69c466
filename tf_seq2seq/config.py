"""Every hyperparameter of a run, in one frozen dataclass saved next to the model.

`config.json` in the model directory is the single source of truth: `train`
writes it on the first run and refuses to resume with different model fields;
`evaluate` and `export` read it back.
"""

import dataclasses
import json
import os

from tf_seq2seq.errors import Seq2SeqError

CONFIG_FILE = "config.json"


@dataclasses.dataclass(frozen=True)
class Config:
    """Hyperparameters of one model and its training run.

    Fields marked `model=True` in their metadata define the trained weights and
    vocabularies; a model directory refuses to resume when any of them differ.
    """

    # Data.
    dataset: str = "sample"
    data_dir: str = ""
    train_split: str = "train"
    eval_split: str = "val"
    test_split: str = "test"
    source_lang: str = dataclasses.field(default="en", metadata={"model": True})
    target_lang: str = dataclasses.field(default="fr", metadata={"model": True})
    reverse_source: bool = dataclasses.field(default=True, metadata={"model": True})
    max_source_length: int = 50
    max_target_length: int = 50
    tokenizer: str = dataclasses.field(default="word", metadata={"model": True})
    source_vocab_size: int = dataclasses.field(default=8000, metadata={"model": True})
    target_vocab_size: int = dataclasses.field(default=8000, metadata={"model": True})
    shuffle_buffer: int = 10000
    # Model.
    num_layers: int = dataclasses.field(default=2, metadata={"model": True})
    units: int = dataclasses.field(default=256, metadata={"model": True})
    embedding_dim: int = dataclasses.field(default=256, metadata={"model": True})
    init_scale: float = 0.08
    dropout: float = 0.0
    attention: str = dataclasses.field(default="none", metadata={"model": True})
    # Training.
    optimizer: str = "adam"
    learning_rate: float = 0.001
    decay_start_epoch: float = 0.0
    decay_every_epochs: float = 0.5
    decay_factor: float = 0.5
    clip_norm: float = 5.0
    mixed_precision: str = ""
    batch_size: int = 64
    batch_tokens: int = 0
    vocab_sample_size: int = 0
    epochs: float = 0.0
    train_steps: int = 0
    checkpoint_every_steps: int = 500
    keep_checkpoints: int = 3
    log_every_steps: int = 50
    seed: int = 1234
    eval_every_steps: int = 0
    eval_sentences: int = 200
    eval_beam_size: int = 1
    early_stopping_patience: int = 0
    # Distribution.
    distribution: str = "auto"
    device: str = ""
    num_gpus: int = 0
    cpu_replicas: int = 0
    collective: str = "auto"
    peer_timeout: float = 600.0
    tpu: str = ""
    layer_devices: str = ""
    # Decoding.
    beam_size: int = 4
    length_penalty: float = 0.0
    max_decode_ratio: float = 2.0
    max_decode_length: int = 100
    max_batch_size: int = 256
    jit_compile: bool = False

    def replace(self, **changes):
        """Returns a copy with `changes` applied."""
        return dataclasses.replace(self, **changes)

    def model_differences(self, other):
        """Names the model fields whose values differ between `self` and `other`.

        Returns:
            A list of strings `"name: self_value != other_value"`, empty when the
            two configs describe the same model.
        """
        return [
            f"{f.name}: {getattr(self, f.name)!r} != {getattr(other, f.name)!r}"
            for f in dataclasses.fields(self)
            if f.metadata.get("model") and getattr(self, f.name) != getattr(other, f.name)
        ]

    def save(self, model_dir):
        """Writes the config as `MODEL_DIR/config.json`."""
        os.makedirs(model_dir, exist_ok=True)
        with open(os.path.join(model_dir, CONFIG_FILE), "w", encoding="utf-8") as f:
            json.dump(dataclasses.asdict(self), f, indent=2, sort_keys=True)
            f.write("\n")


def load(model_dir):
    """Reads `MODEL_DIR/config.json`.

    Raises:
        Seq2SeqError: if the file is missing or holds unknown fields.
    """
    path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.exists(path):
        raise Seq2SeqError(f"{path} not found: {model_dir} is not a trained model directory")
    with open(path, encoding="utf-8") as f:
        values = json.load(f)
    known = {f.name for f in dataclasses.fields(Config)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise Seq2SeqError(f"{path} has unknown fields: {', '.join(unknown)}")
    return Config(**values)


def exists(model_dir):
    """Whether `model_dir` holds a saved config."""
    return os.path.exists(os.path.join(model_dir, CONFIG_FILE))
