"""What the command line got wrong, said before any job runs: Hydra's own errors (a mistyped key, a group option that
does not exist, an argument that is not key=value, a run folder that cannot be made) as one ``error: ...`` line and
exit 2 like every other bad input, and ``+key=value`` overrides that add a setting nothing reads."""

from __future__ import annotations

import difflib
import inspect
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from review_cls.errors import USER_ERROR_EXIT_CODE, ConfigError
from review_cls.utils.atomic import file_in_the_way

# Hydra prints its own report of an exception and exits 1 unless this is set: then it raises, and the command reports
FULL_ERROR = "HYDRA_FULL_ERROR"
# the settings an unknown key's message lists (the Trainer alone takes over 40)
LISTED = 20
NOT_THERE = object()
# groups read into settings objects that name their own unknown keys (data/data_settings.py, models/model_settings.py)
OWN_KEY_CHECKS = ("data", "model")


@dataclass
class _Reading:
    """While Hydra reads the command line: whether the job has started, and the user's HYDRA_FULL_ERROR to put back
    once it has (``active`` while the command's own value is set)."""

    active: bool = False
    job_started: bool = False
    user_value: str | None = None

    def put_back(self) -> None:
        if not self.active:
            return
        self.active = False
        if self.user_value is None:
            os.environ.pop(FULL_ERROR, None)
        else:
            os.environ[FULL_ERROR] = self.user_value


_READING = _Reading()


def mark_job_started() -> None:
    """From here on an exception is the job's own: Hydra reports it as it always does (HYDRA_FULL_ERROR as the user
    set it, also for any process the job starts)."""
    _READING.job_started = True
    _READING.put_back()


@contextmanager
def hydra_errors_reported(command: str) -> Iterator[None]:
    """Around Hydra's main: what Hydra raises before the job starts becomes ``error: ...`` and exit 2. A user who
    set HYDRA_FULL_ERROR=1 gets Hydra's traceback."""
    user_value = os.environ.get(FULL_ERROR)
    if user_value == "1":
        yield
        return
    _READING.active, _READING.job_started, _READING.user_value = True, False, user_value
    os.environ[FULL_ERROR] = "1"
    try:
        yield
    except Exception as exc:
        message = None if _READING.job_started else hydra_error_message(exc, command)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(USER_ERROR_EXIT_CODE) from None
    finally:
        _READING.put_back()


def hydra_error_message(exc: Exception, command: str) -> str | None:
    """The one-paragraph message for an exception Hydra raised while reading the command line and config; ``None``
    for anything else."""
    from hydra.errors import HydraException, MissingConfigException, OverrideParseException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

    text = str(exc)
    if isinstance(exc, MissingConfigException) and exc.missing_cfg_file and "/" in exc.missing_cfg_file:
        group, name = exc.missing_cfg_file.rsplit("/", 1)
        return f"No option '{name}' in the config group {group}{_did_you_mean(name, exc.options or [])}. " \
               f"Options: {', '.join(exc.options or [])}."
    if isinstance(exc, OverrideParseException):
        found = re.search(r"Error parsing override '(.*)'", text)
        argument = found.group(1) if found else text.splitlines()[0]
        return (f"Cannot read the argument {argument!r}: settings are key=value (data.path=reviews.csv) and groups "
                f"group=option (model=e5_small). Help: python -m review_cls.{command} --help")
    existing = re.search(r"An item is already at '([^']+)'", text)
    if existing:
        return f"{existing.group(1)} is a setting already: set it without the '+', {existing.group(1)}=..."
    cause = exc.__cause__
    if isinstance(exc, HydraException) and isinstance(cause, (ConfigKeyError, ConfigAttributeError)):
        return unknown_key_message(str(cause.full_key), _keys(cause.parent_node, {str(cause.key)}, []))
    if isinstance(exc, OmegaConfBaseException):  # the first line; the key is given apart from OmegaConf's details
        return f"{text.splitlines()[0]} (in {exc.full_key})" if exc.full_key else text.splitlines()[0]
    if isinstance(exc, HydraException):
        return " ".join(line.strip() for line in text.splitlines() if line.strip())
    if isinstance(exc, OSError) and exc.filename:
        blocker = file_in_the_way(exc.filename)
        reason = f"'{blocker}' is a file, not a folder" if blocker else exc.strerror
        return (f"Cannot create the run folder '{exc.filename}' ({reason}): set hydra.run.dir, or paths.log_dir, to "
                "a folder you may write to.")
    return None


def check_added_keys(cfg: DictConfig | None) -> None:
    """Every ``+key=value`` (or ``++``) on the command line must add a setting something reads: a parameter of the
    ``_target_`` of the group it lands in (``+trainer.max_steps=10``, ``+callbacks.x._target_=...``). Any other is
    refused naming it (``+select.strategyy=margin``, ``+audit.fold=3``), since the command would ignore it.

    ``+group=option`` (``+experiment=chinese``) and ``hydra.*`` are Hydra's; ``data.*`` and ``model.*`` are checked
    by their settings objects; keys inside a parameter's value (a dict a builder takes whole) are the builder's to
    check; ``++`` may also change a plain setting the config has."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if cfg is None or not HydraConfig.initialized():
        return
    hydra_cfg = HydraConfig.get()
    added = [override for override in OverridesParser.create().parse_overrides(list(hydra_cfg.overrides.task))
             if (override.is_add() or override.is_force_add()) and override.package is None
             and override.key_or_group not in hydra_cfg.runtime.choices
             and override.key_or_group.split(".")[0] not in ("hydra", *OWN_KEY_CHECKS)]
    keys = {override.key_or_group for override in added}
    for override in added:
        if OmegaConf.select(cfg, override.key_or_group, default=NOT_THERE) is NOT_THERE:
            continue  # Hydra's config of another run (a test's): every + key is in the config Hydra composed
        parent_key, _, name = override.key_or_group.rpartition(".")
        parent = _node(cfg, parent_key)
        accepted = _target_parameters(parent)
        if name.startswith("_") or accepted is ... or (accepted is not None and name in accepted):
            continue
        built = _target_parameters(_node(cfg, override.key_or_group)) is not None
        if built and _holds_objects(parent, parent_key, keys):
            continue  # one more object where the others are (+callbacks.timer={_target_: ...})
        if accepted is None and (override.is_force_add() or _inside_a_target(cfg, parent_key)):
            continue
        raise ConfigError(unknown_key_message(*_first_unknown(cfg, override.key_or_group, keys, accepted)))


def unknown_key_message(key: str, known: list[str]) -> str:
    """``Unknown setting a.b (did you mean a.c?)`` and the settings there are."""
    prefix, _, name = key.rpartition(".")
    place = f"{prefix}." if prefix else ""
    shown = ", ".join(place + option for option in known[:LISTED]) + (", ..." if len(known) > LISTED else "")
    listed = f" Settings there: {shown}." if known else ""
    return (f"Unknown setting {key}{_did_you_mean(name, known, place)}: no config of this command has it, so it "
            f"would be ignored.{listed}")


def _first_unknown(cfg: DictConfig, key: str, added: set[str], accepted: list[str] | None) -> tuple[str, list[str]]:
    """The outermost part of ``key`` that only ``+`` overrides made (``foo`` of ``+foo.bar=1``), with the names
    beside it that the config does have."""
    parts = key.split(".")
    for depth in range(1, len(parts)):
        prefix = ".".join(parts[:depth])
        if _only_added(_node(cfg, prefix), prefix, added):
            return prefix, _keys(_node(cfg, ".".join(parts[: depth - 1])), added | {prefix}, parts[:depth - 1])
    return key, accepted if accepted is not None else _keys(_node(cfg, ".".join(parts[:-1])), added, parts[:-1])


def _only_added(node: Any, prefix: str, added: set[str]) -> bool:
    if not isinstance(node, DictConfig):
        return f"{prefix}" in added
    return all(_only_added(node.get(child), f"{prefix}.{child}", added) for child in node)


def _keys(node: Any, added: set[str], path: list[str]) -> list[str]:
    """The names in ``node`` (at ``path``) that no ``+`` override added."""
    if not isinstance(node, Mapping):
        return []
    return [str(key) for key in node if not str(key).startswith("_") and ".".join([*path, str(key)]) not in added]


def _node(cfg: DictConfig, key: str) -> Any:
    return OmegaConf.select(cfg, key) if key else cfg


def _target_parameters(node: Any) -> list[str] | Any | None:
    """The keyword parameters of the node's ``_target_`` (``...`` when it takes any); ``None`` without a target or
    when it cannot be imported (instantiating it reports that)."""
    target = node.get("_target_") if isinstance(node, DictConfig) else None
    if not isinstance(target, str):
        return None
    from hydra.utils import get_method

    try:
        parameters = inspect.signature(get_method(target)).parameters
    except Exception:  # noqa: BLE001 - a target that cannot be imported or inspected: instantiating it says why
        return None
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values()):
        return ...
    return sorted(parameters)


def _holds_objects(node: Any, path: str, added: set[str]) -> bool:
    """A group of objects to build, each with its ``_target_`` (``callbacks``, a ``logger`` of several), as the
    config files have it (what ``+`` overrides ``added`` left out)."""
    return isinstance(node, DictConfig) and any(
        _target_parameters(node.get(child)) is not None for child in node
        if ".".join(filter(None, (path, str(child)))) not in added)


def _inside_a_target(cfg: DictConfig, key: str) -> bool:
    """``key`` lies inside the value of a ``_target_`` node's parameter (``data.resampling``)."""
    parts = key.split(".") if key else []
    return any(_target_parameters(_node(cfg, ".".join(parts[:depth]))) is not None for depth in range(1, len(parts)))


def _did_you_mean(name: str, options: list[str], place: str = "") -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean {place}{close[0]}?)" if close else ""
