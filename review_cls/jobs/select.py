"""The ``review_cls.select`` job: select's settings checked, then the next reviews to label picked from an unlabeled
pool (review_cls/labeling/selection.py); or a Label Studio export turned back into a training table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from review_cls.data.io import check_encoding, checked_sep
from review_cls.errors import ConfigError
from review_cls.labeling.label_studio import write_labeled_table
from review_cls.labeling.selection import select_for_labeling
from review_cls.labeling.strategies import STRATEGIES
from review_cls.utils.hardware import resolve_device
from review_cls.utils.settings import column_name, flag, path_value, require_settings, whole_number

USAGE = "python -m review_cls.select ckpt_path=best.ckpt input=unlabeled.csv n=200"


def check_select_settings(cfg: DictConfig) -> None:
    """Every setting's type and range, before the checkpoint or the pool is read."""
    for key in ("ckpt_path", "input", "output"):
        path_value(cfg, key)
    whole_number(cfg, "n", 1)
    whole_number(cfg, "batch_size", 1)
    whole_number(cfg, "seed", 0)
    flag(cfg, "overwrite")
    flag(cfg, "blend")
    column_name(cfg, "text_column")
    check_encoding(str(cfg.encoding), "encoding")
    checked_sep(cfg.get("sep"), "sep")
    resolve_device(cfg.device)
    choice = cfg.select
    if choice.strategy not in STRATEGIES:
        raise ConfigError(f"select.strategy={choice.strategy} is not a strategy; use one of: {', '.join(STRATEGIES)}.")
    flag(choice, "diverse", "select.")
    whole_number(choice, "per_class_quota", 0, "select.")
    column_name(choice, "labeled_text_column", optional=True, prefix="select.")
    if choice.labeled is not None:
        path_value(choice, "labeled", "select.")


def run_selection(cfg: DictConfig) -> dict[str, Any]:
    """The ``review_cls.select`` job (or, with ``select.from_label_studio``, the export -> table conversion)."""
    if cfg.select.from_label_studio is not None:
        export = Path(path_value(cfg.select, "from_label_studio", "select.")).expanduser()
        output = Path(path_value(cfg.select, "labeled_output", "select.")).expanduser()
        return write_labeled_table(export, output, flag(cfg, "overwrite"))
    require_settings(cfg, ("ckpt_path", "input"), USAGE)
    check_select_settings(cfg)
    return select_for_labeling(cfg)
