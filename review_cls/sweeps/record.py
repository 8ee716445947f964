"""The per-run record ``metrics.json``: final metrics, overrides and status, read back by the sweep summary.

In a multirun a trial that raises (NaN loss, out of memory, a bad setting) is recorded as ``failed`` and returns
``None``: Hydra's basic sweeper would otherwise abort the sweep at the first exception, and the Optuna sweeper
marks a trial whose value is not a float as failed and goes on with the search.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from omegaconf import DictConfig

if TYPE_CHECKING:
    import lightning as L

from review_cls.atomic import atomic_file
from review_cls.cli import run_job

log = logging.getLogger(__name__)

RUN_RECORD = "metrics.json"
OK, FAILED = "ok", "failed"
Metrics = dict[str, float]


def hydra_overrides() -> list[str]:
    """The command-line (and sweep) overrides of the current Hydra job; empty outside Hydra."""
    from hydra.core.hydra_config import HydraConfig

    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def is_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def write_run_record(
    output_dir: str | Path,
    metrics: Mapping[str, float],
    optimized_metric: str,
    status: str = OK,
    error: str | None = None,
    test_support: Mapping[str, int] | None = None,
) -> Path:
    """Write ``metrics.json`` into the run folder; ``test_support`` (reviews per class in the test split) lets the
    summary find the rarest class."""
    path = Path(output_dir) / RUN_RECORD
    record = {
        "status": status,
        "error": error,
        "optimized_metric": optimized_metric,
        "overrides": hydra_overrides(),
        "metrics": {name: float(value) for name, value in metrics.items()},
        "test_support": dict(test_support or {}),
    }
    with atomic_file(path) as temporary:
        temporary.write_text(json.dumps(record, indent=2))
    return path


def best_checkpoint_score(trainer: L.Trainer) -> Metrics:
    """``<monitor>_best`` (e.g. ``val/f1_macro_best``): the score of the checkpoint that gets tested. The logged
    ``val/f1_macro`` is the last epoch's, up to ``patience`` epochs past the best; sweeps rank by this one."""
    callback = trainer.checkpoint_callback
    if callback is None or callback.monitor is None or callback.best_model_score is None:
        return {}
    return {f"{callback.monitor}_best": float(callback.best_model_score)}


def class_support(labels: Sequence[str]) -> dict[str, int]:
    """Reviews per class of one split, by label name."""
    return dict(sorted(Counter(labels).items()))


def finite_or_none(value: float | None) -> float | None:
    """What a sweeper gets back: NaN would make the Optuna sweeper crash on ``study.tell``; ``None`` fails the trial."""
    return value if value is not None and math.isfinite(value) else None


def run_recorded(job: Callable[[DictConfig], Metrics], cfg: DictConfig) -> Metrics | None:
    """Run one training job. A single run fails as usual (``error: ...``, exit 2); in a multirun any exception is
    logged, written to ``metrics.json`` as ``failed`` and turned into ``None`` so the other trials still run."""
    if not is_multirun():
        return run_job(job, cfg)
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
