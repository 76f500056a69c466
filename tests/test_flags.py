"""Flags: every recipe in pipelines/ parses into a config (a renamed flag would break `make demo`)."""

import copy
import dataclasses
import glob
import os

import pytest
from absl import flags as absl_flags

from tf_seq2seq import config as config_lib
from tf_seq2seq import flags as flags_lib

RECIPES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "pipelines", "*.flags")))


def given_flags(path):
    """Names of the flags a flagfile sets."""
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip().startswith("--")]
    return [line[2:].split("=", 1)[0] for line in lines]


def test_every_recipe_is_found():
    assert {os.path.basename(p) for p in RECIPES} >= {"demo.flags", "wmt14_en_fr_paper.flags"}


@pytest.mark.parametrize("path", RECIPES, ids=os.path.basename)
def test_recipe_parses_into_a_config(path):
    values = copy.deepcopy(flags_lib.FLAGS)  # The global flags stay unparsed.
    values(["train", f"--flagfile={path}"])
    config = config_lib.Config(**{name: values[name].value for name in flags_lib.CONFIG_FLAGS})
    given = given_flags(path)
    assert given, path
    for name in given:
        assert name in flags_lib.CONFIG_FLAGS, f"{path} sets --{name}, which train does not read"
        assert values[name].present
        assert getattr(config, name) == values[name].value


BOUNDED = [field for field in dataclasses.fields(config_lib.Config) if field.metadata["lower_bound"] is not None]
# Any integer is a seed.
UNBOUNDED = {"seed"}


def test_every_number_field_has_a_lower_bound():
    numbers = {field.name for field in dataclasses.fields(config_lib.Config)
               if type(field.default) in (int, float) and not field.metadata["choices"]}
    assert numbers - UNBOUNDED == {field.name for field in BOUNDED}


@pytest.mark.parametrize("field", BOUNDED, ids=lambda field: field.name)
def test_values_out_of_bounds_are_refused_naming_the_flag(field):
    low, high = field.metadata["lower_bound"], field.metadata["upper_bound"]
    step = 1 if isinstance(field.default, int) else 0.5
    for value in [low - step] + ([] if high is None else [high + step]):
        values = copy.deepcopy(flags_lib.FLAGS)
        with pytest.raises(absl_flags.IllegalFlagValueError, match=f"flag --{field.name}={value}: "):
            values(["train", f"--{field.name}={value}"])
    values = copy.deepcopy(flags_lib.FLAGS)
    values(["train", f"--{field.name}={low}"])
    assert values[field.name].value == low


@pytest.mark.parametrize("flag", ["num_hypotheses", "translate_batch_size"])
def test_translate_counts_below_one_are_refused(flag):
    values = copy.deepcopy(flags_lib.FLAGS)
    with pytest.raises(absl_flags.IllegalFlagValueError, match=f"flag --{flag}=0: 0 is not a positive integer"):
        values(["translate", f"--{flag}=0"])
