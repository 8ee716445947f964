"""Read one setting out of a config group as a number, or fail naming it (``model.lr=abc``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from review_cls.errors import ConfigError


def number(section: Mapping[str, Any], group: str, key: str) -> float:
    """``section[key]`` as a float; a missing or non-numeric value is a :class:`ConfigError` naming ``group.key``."""
    value = section.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{group}.{key} must be a number, got {value!r}.")
    return float(value)
