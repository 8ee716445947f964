"""Shared entry-point behaviour: user errors become one clear message and a non-zero exit, not a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from omegaconf import DictConfig

from review_cls.errors import ReviewClsError

Result = TypeVar("Result")


def run_job(job: Callable[[DictConfig], Result], cfg: DictConfig) -> Result:
    """Run ``job``; a :class:`ReviewClsError` is printed as ``error: ...`` and exits with status 2."""
    try:
        return job(cfg)
    except ReviewClsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


def require_settings(cfg: DictConfig, names: Sequence[str], usage: str) -> None:
    """Settings marked ``???`` in the config that the user left out -> a ConfigError showing the usage line."""
    from omegaconf import OmegaConf

    from review_cls.errors import ConfigError

    missing = [name for name in names if OmegaConf.is_missing(cfg, name)]
    if missing:
        raise ConfigError(f"Set {', '.join(f'{name}=...' for name in missing)} (usage: {usage}).")
