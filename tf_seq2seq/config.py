"""Every hyperparameter of a run, in one frozen dataclass saved next to the model.

`config.json` in the model directory is the single source of truth: `train`
writes it on the first run and refuses to resume with different model fields;
`evaluate` and `export` read it back. The settings themselves (default, help,
range) are declared by group in `settings`.
"""

import dataclasses
import json
import os

from tf_seq2seq import settings
from tf_seq2seq.errors import Seq2SeqError

CONFIG_FILE = "config.json"
# Fields added after models were trained without them, with the values those models were
# trained with: a `config.json` that lacks one resumes and reports as it was trained.
LEGACY_VALUES = {"loss_normalization": "tokens", "adam_epsilon": 1e-7}


def _out_of_range(value, metadata):
    """Why `value` breaks a field's `choices` or bounds (`settings._field`), or None."""
    if metadata["choices"] and value not in metadata["choices"]:
        return f"expected one of {', '.join(repr(choice) for choice in metadata['choices'])}"
    if not isinstance(value, (int, float)):
        return None
    if metadata["lower_bound"] is not None and value < metadata["lower_bound"]:
        return f"must be at least {metadata['lower_bound']}"
    if metadata["upper_bound"] is not None and value > metadata["upper_bound"]:
        return f"must be at most {metadata['upper_bound']}"
    return None


@dataclasses.dataclass(frozen=True)
class Config(settings.DecodingSettings, settings.DistributionSettings, settings.TrainingSettings,
             settings.ModelSettings, settings.DataSettings):
    """Hyperparameters of one model and its training run: every group of `settings`.

    Its fields are those of the groups, in the order data, model, training,
    distribution, decoding (`dataclasses.fields`, `--help`). Each field's
    metadata (`settings._field`) holds its flag's group, help and range, and
    marks the fields that define the model (`model_differences`) and that
    ensemble members share (`ENSEMBLE_FIELDS`).
    """

    def __post_init__(self):
        """Checks every field against its metadata (`choices`, `lower_bound`, `upper_bound`).

        The one check of a setting's range: flags, `load` and code building a
        `Config` all pass through it, so the modules that use a field trust it.

        Raises:
            Seq2SeqError: naming the first field out of its range.

        Examples:
            >>> Config(units=0)
            Traceback (most recent call last):
            ...
            tf_seq2seq.errors.Seq2SeqError: --units=0: must be at least 1
        """
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            problem = _out_of_range(value, field.metadata)
            if problem:
                raise Seq2SeqError(f"--{field.name}={value!r}: {problem}")

    def replace(self, **changes):
        """Returns a copy with `changes` applied."""
        return dataclasses.replace(self, **changes)

    def model_differences(self, other):
        """Names the model fields whose values differ between `self` and `other`.

        Returns:
            A list of strings `"name: self_value != other_value"`, empty when the
            two configs describe the same model.
        """
        return self.differences(other, field_names(model=True))

    def differences(self, other, names):
        """Names the fields of `names` whose values differ between `self` and `other`.

        Returns:
            A list of strings `"name: self_value != other_value"`, in field order.
        """
        return [
            f"{f.name}: {getattr(self, f.name)!r} != {getattr(other, f.name)!r}"
            for f in dataclasses.fields(self)
            if f.name in names and getattr(self, f.name) != getattr(other, f.name)
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
        Seq2SeqError: if the file is missing, unreadable (e.g. truncated) or
            holds unknown fields.
    """
    path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.exists(path):
        raise Seq2SeqError(f"{path} not found: {model_dir} is not a trained model directory")
    try:
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Seq2SeqError(
            f"{path} cannot be read ({e}): restore it from a copy, or train in a new --model_dir"
        ) from None
    if not isinstance(values, dict):
        raise Seq2SeqError(f"{path} holds no settings: restore it from a copy, or train in a new --model_dir")
    known = {f.name for f in dataclasses.fields(Config)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise Seq2SeqError(f"{path} has unknown fields: {', '.join(unknown)}")
    return Config(**{**LEGACY_VALUES, **values})


def exists(model_dir):
    """Whether `model_dir` holds a saved config."""
    return os.path.exists(os.path.join(model_dir, CONFIG_FILE))


def field_names(**metadata):
    """Names of the `Config` fields whose metadata has all the given values, in field order.

    For example `field_names(group="decoding")` or `field_names(ensemble=True)`.
    """
    return tuple(
        f.name for f in dataclasses.fields(Config)
        if all(f.metadata[key] == value for key, value in metadata.items())
    )


# The fields that name the training corpus: a resume that changes one restarts the data.
CORPUS_FIELDS = ("dataset", "data_dir", "train_split")
# The fields every member of an ensemble shares (besides the vocabularies).
ENSEMBLE_FIELDS = field_names(ensemble=True)
