"""What a run folder holds, by name: the one owner of these names, which every writer and reader takes from here.

    <run>/.hydra/config.yaml          the composed config (Hydra)
    <run>/split.json                  row ids of train/val/test and the file they index
    <run>/metrics.json                the run record: status, metrics, overrides, test support per class
    <run>/history.csv                 one row per epoch (its path is set in conf/callbacks/default.yaml)
    <run>/checkpoints/                best-epochNN.ckpt, last.ckpt
    <run>/classification_report.{txt,json}, confusion_matrix.png, test_predictions.csv, training_curves.png
    <run>/calibration.json, reliability_diagram.png (single-label), thresholds.json (multi-label)
    <run>/baseline/                   the TF-IDF baseline's own run folder on the same split
    <run>/error.txt                   why a run stopped, when it did
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

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
