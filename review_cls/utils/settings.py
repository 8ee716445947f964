"""Read one setting as the kind of value it must be (a number, a whole number, a flag, a path, a column name), or
fail naming it (``model.lr=abc``, ``chunk_size=0``): the checks every command's settings go through."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from review_cls.errors import ConfigError


def number(section: Mapping[str, Any], group: str, key: str) -> float:
    """``section[key]`` as a float; a missing or non-numeric value is a :class:`ConfigError` naming ``group.key``."""
    value = section.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{group}.{key} must be a number, got {value!r}.")
    return float(value)


def whole_number(cfg: DictConfig, key: str, minimum: int, prefix: str = "") -> int:
    """The setting ``key`` as an int >= ``minimum``; ``abc``, ``2.5`` or ``true`` -> a ConfigError naming it
    (``prefix`` is its group, e.g. ``data.``)."""
    value = cfg.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{prefix}{key} must be a whole number >= {minimum}, got {value!r}.")
    return value


def flag(cfg: DictConfig, key: str, prefix: str = "") -> bool:
    """The setting ``key`` as a bool; anything but true/false -> a ConfigError naming it."""
    value = cfg.get(key)
    if not isinstance(value, bool):
        raise ConfigError(f"{prefix}{key} must be true or false, got {value!r}.")
    return value


def path_value(cfg: DictConfig, key: str, prefix: str = "") -> str:
    """The setting ``key`` as a path: text that is not blank and holds no NUL byte (no file system takes one)."""
    value = cfg.get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip() or "\x00" in str(value):
        raise ConfigError(f"{prefix}{key} must be a path, got {value!r}.")
    return str(value)


def column_name(cfg: DictConfig, key: str, optional: bool = False, prefix: str = "") -> str | None:
    """The setting ``key`` as a column name (``None`` allowed when ``optional``)."""
    value = cfg.get(key)
    if (value is None and optional) or (isinstance(value, str) and value):
        return value
    raise ConfigError(f"{prefix}{key} must be a column name, got {value!r} (quote a name made of digits: "
                      f"{prefix}{key}='5').")


def require_settings(cfg: DictConfig, names: Sequence[str], usage: str) -> None:
    """Settings marked ``???`` in the config that the user left out -> a ConfigError showing the usage line."""
    missing = [name for name in names if OmegaConf.is_missing(cfg, name)]
    if missing:
        raise ConfigError(f"Set {', '.join(f'{name}=...' for name in missing)} (usage: {usage}).")
