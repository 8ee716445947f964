"""What a run folder holds, by name, and its run record: the one owner of these names, which every writer and reader
takes from here.

    <run>/.hydra/config.yaml          the composed config (Hydra)
    <run>/split.json                  row ids of train/val/test and the file they index
    <run>/metrics.json                the run record: status, metrics, overrides, test support per class
    <run>/history.csv                 one row per epoch (its path is set in conf/callbacks/default.yaml)
    <run>/checkpoints/                best-epochNN.ckpt, last.ckpt
    <run>/classification_report.{txt,json}, confusion_matrix.png, test_predictions.csv, training_curves.png
    <run>/calibration.json, reliability_diagram.png (single-label), thresholds.json (multi-label)
    <run>/baseline/                   the TF-IDF baseline's own run folder on the same split
    <run>/error.txt                   why a run stopped, when it did

The run record is written by training, the TF-IDF baseline and, for a multirun trial that raises (NaN loss, out of
memory, a bad setting), as ``failed`` by :func:`review_cls.cli.run_command`; the sweep summary reads it back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from review_cls.utils.atomic import atomic_file

if TYPE_CHECKING:
    import lightning as L

HYDRA_CONFIG, HYDRA_OVERRIDES = ".hydra/config.yaml", ".hydra/overrides.yaml"
SPLIT_JSON = "split.json"
RUN_RECORD = "metrics.json"
CHECKPOINTS = "checkpoints"
REPORT_TXT, REPORT_JSON = "classification_report.txt", "classification_report.json"
CONFUSION_PNG = "confusion_matrix.png"
CURVES_PNG = "training_curves.png"
CALIBRATION_JSON, RELIABILITY_PNG = "calibration.json", "reliability_diagram.png"
THRESHOLDS_JSON = "thresholds.json"
BASELINE = "baseline"
ERROR_TXT = "error.txt"
# the run record's status
OK, FAILED = "ok", "failed"
Metrics = dict[str, float]


class RunFolder:
    """A run folder and the reading of its files: each reader gets ``None`` for a file that is absent or unreadable
    (an export folder, a run killed before it finished) instead of its own try/except."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    @classmethod
    def of_checkpoint(cls, ckpt_path: str | Path) -> RunFolder:
        """The run around ``<run>/checkpoints/<name>.ckpt``."""
        return cls(Path(ckpt_path).expanduser().resolve().parent.parent)

    def __truediv__(self, name: str) -> Path:
        return self.folder / name

    def read(self, name: str) -> Any | None:
        """``name`` parsed as JSON (or YAML for ``.yaml``); ``None`` when it is absent or unreadable."""
        path = self.folder / name
        try:
            text = path.read_text(encoding="utf-8")
            return yaml.safe_load(text) if path.suffix == ".yaml" else json.loads(text)
        except (OSError, ValueError, yaml.YAMLError):
            return None

    def metrics(self) -> dict[str, float]:
        """The run record's metrics; empty without a record."""
        record = self.read(RUN_RECORD)
        return record.get("metrics", {}) if isinstance(record, dict) else {}


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


def hydra_overrides() -> list[str]:
    """The command-line (and sweep) overrides of the current Hydra job; empty outside Hydra."""
    from hydra.core.hydra_config import HydraConfig

    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def is_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


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
