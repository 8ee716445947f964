"""The one wrapper every command shim uses: user errors become one clear message and exit 2, not a traceback;
in a multirun a failed trial is recorded and the sweep goes on."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from review_cls.command_help import answer_help
from review_cls.errors import USER_ERROR_EXIT_CODE, ReviewClsError
from review_cls.sweeps.record import FAILED, finite_or_none, is_multirun, write_run_record
from review_cls.utils.run_files import RUN_RECORD

log = logging.getLogger(__name__)
# the shims' config folder as an absolute path: Hydra reads a relative config_path as a python package ("conf") when
# the shim is called by a console script (review-cls-train) instead of `python -m`, and finds nothing
CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")


def command(config_name: str) -> Callable[[Callable[[DictConfig], Any]], Callable[[], Any]]:
    """``hydra.main`` on ``conf/<config_name>.yaml``, with ``--help`` answered from ``conf/`` before Hydra composes
    anything (review_cls/command_help.py); ``--hydra-help`` and ``--cfg`` stay Hydra's."""

    def decorate(task: Callable[[DictConfig], Any]) -> Callable[[], Any]:
        hydra_main = hydra.main(version_base="1.3", config_path=CONF_DIR, config_name=config_name)(task)

        @functools.wraps(task)
        def main() -> Any:
            answer_help(config_name)
            return hydra_main()

        return main

    return decorate


def run_command(job: Callable[[DictConfig], Any], cfg: DictConfig) -> float | None:
    """Run a command's ``job``; return the value a sweeper optimises (``cfg.optimized_metric`` of the job's metrics,
    ``None`` when the command has none or a trial failed).

    A single run fails as usual: a :class:`ReviewClsError` is printed as ``error: ...`` and exits with status 2.
    In a multirun any exception is logged, written to the job's ``metrics.json`` as ``failed`` and turned into
    ``None``: Hydra's basic sweeper would otherwise abort the sweep at the first exception, and the Optuna sweeper
    marks a trial whose value is not a float as failed and goes on with the search.
    """
    if is_multirun() and OmegaConf.select(cfg, "paths.output_dir") is not None:
        result = _run_trial(job, cfg)
    else:
        try:
            result = job(cfg)
        except ReviewClsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(USER_ERROR_EXIT_CODE)
    metric = cfg.get("optimized_metric")
    if not metric or not isinstance(result, Mapping):
        return None
    return finite_or_none(result.get(metric))


def _run_trial(job: Callable[[DictConfig], Any], cfg: DictConfig) -> Any:
    try:
        return job(cfg)
    except Exception as exc:  # noqa: BLE001 - one trial's failure of any kind must not end the sweep
        error = f"{type(exc).__name__}: {exc}"
        log.exception("Trial failed (recorded in %s, the sweep goes on): %s", RUN_RECORD, error)
        write_run_record(cfg.paths.output_dir, {}, cfg.get("optimized_metric", ""), status=FAILED, error=error)
        _release_accelerator_memory()
        return None


def _release_accelerator_memory() -> None:
    """After an out-of-memory trial, hand cached GPU memory back so the next trial starts clean."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
