"""The shared setting readers: a number, a whole number, a flag, and a config group's keys against a settings
dataclass (a typo names the setting it resembles, a missing key is named)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from omegaconf import OmegaConf

from review_cls.errors import ConfigError
from review_cls.utils.settings import check_known_keys, field_names, field_values, flag, group_values
from review_cls.utils.settings import number, whole_number


@dataclass(frozen=True)
class Example:
    rate: float
    steps: int
    learned: int = field(init=False, default=0)


def test_single_values_are_read_as_their_kind_or_refused_by_name():
    assert number({"lr": 1}, "model", "lr") == 1.0 and whole_number({"n": 3}, "n", 1, "data.") == 3
    assert flag({"on": True}, "on") is True
    for check, message in ((lambda: number({"lr": "abc"}, "model", "lr"), "model.lr must be a number"),
                           (lambda: whole_number({"n": 2.5}, "n", 1, "data."), "data.n must be a whole number >= 1"),
                           (lambda: flag({"on": 1}, "on", "model."), "model.on must be true or false")):
        with pytest.raises(ConfigError, match=message):
            check()


def test_a_group_is_read_into_the_fields_set_from_outside():
    root = OmegaConf.create({"steps_default": 4, "group": {"_target_": "x", "rate": 0.5, "steps": "${steps_default}"}})
    values = group_values(root.group)
    assert values == {"rate": 0.5, "steps": 4}  # resolved, without Hydra's own keys
    assert field_names(Example) == ["rate", "steps"]
    assert field_values(Example, values | {"other": 1}, "group") == {"rate": 0.5, "steps": 4}
    with pytest.raises(ConfigError, match="lack group.steps"):
        field_values(Example, {"rate": 0.5}, "group")


def test_unknown_keys_name_the_known_one_they_resemble():
    check_known_keys({"rate": 1}, ["rate", "steps"], "group")
    with pytest.raises(ConfigError) as caught:
        check_known_keys({"rtae": 1, "zzz": 2}, ["rate", "steps"], "group")
    assert str(caught.value) == ("Unknown group setting(s): group.rtae (did you mean group.rate?), group.zzz. "
                                 "Known: rate, steps.")
