"""The trends settings: the YAML defaults load, and every impossible value names its setting."""

from __future__ import annotations

import pytest

from review_cls.errors import ConfigError
from tests.unit.monitoring.streams import settings


def test_defaults_load_as_one_frozen_object():
    loaded = settings()
    assert loaded.period == "W-SUN" and loaded.topics is None and loaded.rating_range == (0.0, 10.0)
    with pytest.raises(AttributeError):
        loaded.alpha = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(("key", "value", "fragment"), [
    ("window", "year", "trends.window='year'"), ("alpha", 1.5, "trends.alpha"), ("min_ratio", 0.5, "trends.min_ratio"),
    ("history", 0, "trends.history"), ("min_history", 20, "more than trends.history"),
    ("rating_range", [5, 1], "trends.rating_range"), ("topics", "many", "trends.topics"), ("typo", 1, "unknown keys"),
])
def test_bad_values_name_the_setting(key, value, fragment):
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.").replace("(", r"\(")):
        settings(**{key: value})
