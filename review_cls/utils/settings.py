"""Read one setting as the kind of value it must be (a number, a whole number, a flag, a path, a column name), or
fail naming it (``model.lr=abc``, ``chunk_size=0``): the checks every command's settings go through. A config group
read into a settings dataclass has its keys checked here too (a typo names the setting it resembles)."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from review_cls.errors import ConfigError


def number(section: Mapping[str, Any], group: str, key: str) -> float:
    """``section[key]`` as a float; a missing or non-numeric value is a :class:`ConfigError` naming ``group.key``."""
    value = section.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{group}.{key} must be a number, got {value!r}.")
    return float(value)


def whole_number(cfg: Mapping[str, Any], key: str, minimum: int, prefix: str = "") -> int:
    """The setting ``key`` as an int >= ``minimum``; ``abc``, ``2.5`` or ``true`` -> a ConfigError naming it
    (``prefix`` is its group, e.g. ``data.``)."""
    value = cfg.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{prefix}{key} must be a whole number >= {minimum}, got {value!r}.")
    return value


def flag(cfg: Mapping[str, Any], key: str, prefix: str = "") -> bool:
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


def group_values(section: Mapping[str, Any]) -> dict[str, Any]:
    """A config group as plain values (interpolations resolved), without Hydra's own keys (``_target_``)."""
    values = OmegaConf.to_container(section, resolve=True) if isinstance(section, DictConfig) else dict(section)
    return {key: value for key, value in values.items() if not str(key).startswith("_")}


def field_names(settings_class: type) -> list[str]:
    """The settings a dataclass reads from its config group: its fields set from outside (``init``)."""
    return [field.name for field in dataclasses.fields(settings_class) if field.init]


def field_values(settings_class: type, values: Mapping[str, Any], group: str) -> dict[str, Any]:
    """The values of ``settings_class``'s fields in ``values``; a missing one is a ConfigError naming it."""
    missing = [name for name in field_names(settings_class) if name not in values]
    if missing:
        raise ConfigError(f"The {group} settings lack {', '.join(f'{group}.{name}' for name in missing)}: a config "
                          f"of conf/{group}/ that does not start from the packaged one? Add the key(s).")
    return {name: values[name] for name in field_names(settings_class)}


def check_known_keys(values: Mapping[str, Any], known: Iterable[str], group: str) -> None:
    """Every key must be a setting of ``group``: a typo (``+model.lrr=1e-4``) fails here, naming the known setting
    it resembles and listing them all, instead of being ignored or failing after the data was read."""
    known = sorted(known)
    unknown = sorted(key for key in values if key not in known)
    if unknown:
        close = {key: difflib.get_close_matches(key, known, n=1) for key in unknown}
        named = ", ".join(f"{group}.{key}" + (f" (did you mean {group}.{close[key][0]}?)" if close[key] else "")
                          for key in unknown)
        raise ConfigError(f"Unknown {group} setting(s): {named}. Known: {', '.join(known)}.")
