"""Shared entry-point behaviour: user errors become one clear message and a non-zero exit, not a traceback."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TypeVar

from omegaconf import DictConfig

from review_cls.errors import ReviewClsError

log = logging.getLogger("review_cls")
Result = TypeVar("Result")


def run_job(job: Callable[[DictConfig], Result], cfg: DictConfig) -> Result:
    """Run ``job``; a :class:`ReviewClsError` is printed as ``error: ...`` and exits with status 2."""
    try:
        return job(cfg)
    except ReviewClsError as exc:
        log.error("%s", exc)
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
