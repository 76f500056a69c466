"""Flags: every recipe in pipelines/ parses into a config (a renamed flag would break `make demo`)."""

import copy
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


@pytest.mark.parametrize("flag", ["batch_size", "bucket_width"])
def test_counts_below_one_are_refused_naming_the_flag(flag):
    values = copy.deepcopy(flags_lib.FLAGS)
    with pytest.raises(absl_flags.IllegalFlagValueError, match=f"flag --{flag}=0: 0 is not a positive integer"):
        values(["train", f"--{flag}=0"])
