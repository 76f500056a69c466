"""The settings by group: each group's fields carry its flag group, and `Config` is the groups in order."""

import dataclasses

import pytest

from tf_seq2seq import config as config_lib
from tf_seq2seq import settings

GROUPS = {"data": settings.DataSettings, "model": settings.ModelSettings,
          "training": settings.TrainingSettings, "distribution": settings.DistributionSettings,
          "decoding": settings.DecodingSettings}


@pytest.mark.parametrize("group", GROUPS)
def test_a_groups_fields_are_in_its_flag_group(group):
    fields = dataclasses.fields(GROUPS[group])
    assert fields
    assert [f.name for f in fields if f.metadata["group"] != group] == []


def test_config_is_every_group_in_help_order():
    names = [f.name for group in GROUPS.values() for f in dataclasses.fields(group)]
    assert [f.name for f in dataclasses.fields(config_lib.Config)] == names
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("field", dataclasses.fields(config_lib.Config), ids=lambda f: f.name)
def test_every_default_is_within_its_own_range(field):
    metadata = field.metadata
    assert not metadata["choices"] or field.default in metadata["choices"]
    assert metadata["lower_bound"] is None or field.default >= metadata["lower_bound"]
    assert metadata["upper_bound"] is None or field.default <= metadata["upper_bound"]
    assert metadata["help"].strip() and metadata["help"].endswith((".", ")"))
