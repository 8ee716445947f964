"""The per-run record ``metrics.json``: final metrics, overrides and status, read back by the sweep summary.

A multirun trial that raises (NaN loss, out of memory, a bad setting) is recorded as ``failed`` by
:func:`review_cls.cli.run_command`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import lightning as L

from review_cls.utils.atomic import atomic_file
from review_cls.utils.run_files import RUN_RECORD

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


def class_support(counts: Mapping[str, int]) -> dict[str, int]:
    """Reviews per class of one split (``LabeledReviews.label_counts``), by label name."""
    return {str(label): int(count) for label, count in sorted(counts.items())}


def finite_or_none(value: float | None) -> float | None:
    """What a sweeper gets back: NaN would make the Optuna sweeper crash on ``study.tell``; ``None`` fails the trial."""
    return value if value is not None and math.isfinite(value) else None
