"""The run's config: a frozen dataclass saved as config.json beside the model."""

import dataclasses
import json
import re

import pytest

from tf_seq2seq import config as config_lib
from tf_seq2seq.errors import Seq2SeqError

MODEL_FIELDS = {"source_lang", "target_lang", "reverse_source", "tokenizer", "source_vocab_size",
                "target_vocab_size", "num_layers", "units", "embedding_dim"}
# Settings a run may change when it resumes.
TRAINING_FIELDS = {"learning_rate", "batch_size", "train_steps", "epochs", "init_scale", "dropout",
                   "optimizer", "beam_size", "dataset"}


def test_save_then_load_round_trips_every_field(tmp_path):
    config = config_lib.Config(dataset="files:/data", units=48, learning_rate=0.7, reverse_source=False,
                               mixed_precision="mixed_bfloat16", epochs=7.5)
    assert not config_lib.exists(tmp_path / "m")
    config.save(tmp_path / "m")
    assert config_lib.exists(tmp_path / "m")
    assert config_lib.load(tmp_path / "m") == config
    saved = json.loads((tmp_path / "m" / config_lib.CONFIG_FILE).read_text(encoding="utf-8"))
    assert saved == dataclasses.asdict(config) and list(saved) == sorted(saved)


def test_config_is_frozen_and_replace_makes_a_changed_copy():
    config = config_lib.Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.units = 8
    changed = config.replace(units=8, beam_size=2)
    assert (changed.units, changed.beam_size, config.units) == (8, 2, 256)
    assert changed.replace(units=256, beam_size=4) == config


def test_model_differences_name_only_the_fields_that_shape_the_weights():
    config = config_lib.Config()
    model_fields = {f.name for f in dataclasses.fields(config) if f.metadata.get("model")}
    assert MODEL_FIELDS <= model_fields and not TRAINING_FIELDS & model_fields
    training_only = config.replace(learning_rate=0.5, batch_size=7, train_steps=3, beam_size=9)
    assert config.model_differences(training_only) == []
    assert config.model_differences(config.replace(units=8, tokenizer="wordpiece")) == [
        "tokenizer: 'word' != 'wordpiece'", "units: 256 != 8"]


def test_loading_a_directory_without_config_or_with_unknown_fields_is_an_error(tmp_path):
    with pytest.raises(Seq2SeqError, match=f"{tmp_path}/config.json not found: {tmp_path} is not a trained"):
        config_lib.load(tmp_path)
    values = dict(dataclasses.asdict(config_lib.Config()), colour="red", flavour="mint")
    (tmp_path / config_lib.CONFIG_FILE).write_text(json.dumps(values), encoding="utf-8")
    with pytest.raises(Seq2SeqError, match="config.json has unknown fields: colour, flavour$"):
        config_lib.load(tmp_path)


def test_a_config_saved_before_a_setting_existed_loads_as_it_was_trained(tmp_path):
    values = dataclasses.asdict(config_lib.Config())
    for name in config_lib.LEGACY_VALUES:
        del values[name]
    (tmp_path / config_lib.CONFIG_FILE).write_text(json.dumps(values), encoding="utf-8")
    loaded = config_lib.load(tmp_path)
    assert (loaded.loss_normalization, loaded.adam_epsilon) == ("tokens", 1e-7)
    assert (config_lib.Config().loss_normalization, config_lib.Config().adam_epsilon) == ("sentences", 1e-8)


@pytest.mark.parametrize("changes,message", [
    ({"optimizer": "adagrad"}, "--optimizer='adagrad': expected one of 'sgd', 'adam'"),
    ({"attention": "dot"}, "--attention='dot': expected one of 'none', 'luong', 'bahdanau'"),
    ({"collective": "mpi"}, "--collective='mpi': expected one of 'auto', 'ring', 'nccl'"),
    ({"units": 0}, "--units=0: must be at least 1"),
    ({"dropout": 2.0}, "--dropout=2.0: must be at most "),
])
def test_a_config_out_of_its_fields_ranges_is_refused_at_construction(changes, message):
    with pytest.raises(Seq2SeqError, match="^" + re.escape(message)):
        config_lib.Config(**changes)
    with pytest.raises(Seq2SeqError, match="^" + re.escape(message)):
        config_lib.Config().replace(**changes)


def test_a_saved_config_out_of_range_is_refused_on_load(tmp_path):
    config_lib.Config().save(str(tmp_path))
    path = tmp_path / config_lib.CONFIG_FILE
    path.write_text(path.read_text().replace('"tokenizer": "word"', '"tokenizer": "bpe"'))
    with pytest.raises(Seq2SeqError, match="^--tokenizer='bpe': expected one of 'word', 'wordpiece'$"):
        config_lib.load(str(tmp_path))

