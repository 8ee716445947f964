"""The ``review_cls.audit`` job: audit's settings checked, then every review scored out of fold and cleanlab's
suspected label errors written to the run folder (review_cls/labeling/label_audit.py)."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from review_cls.data.data_settings import DataSettings
from review_cls.data.label_sets import LabelSpec
from review_cls.errors import ConfigError
from review_cls.labeling.issues import FILTERS
from review_cls.labeling.label_audit import MODES, audit_labels, check_single_label
from review_cls.models.tfidf import check_tfidf_settings
from review_cls.training.preflight import check_encoder_settings
from review_cls.utils.settings import flag, whole_number


def check_audit_settings(cfg: DictConfig) -> None:
    """The audit group, then the groups the chosen mode uses: all before any data is read."""
    if cfg.audit.model not in MODES:
        raise ConfigError(f"audit.model={cfg.audit.model} is not a mode; use audit.model=tfidf or audit.model=finetune.")
    whole_number(cfg.audit, "folds", 2, "audit.")
    if cfg.audit.filter_by not in FILTERS:
        raise ConfigError(f"audit.filter_by={cfg.audit.filter_by} is not one of cleanlab's filters: {', '.join(FILTERS)}.")
    whole_number(cfg.audit, "examples", 0, "audit.")
    blended = flag(cfg.audit, "blend", "audit.")
    check_single_label(LabelSpec.of(cfg.data))
    if cfg.audit.model == "tfidf":
        DataSettings.from_config(cfg.data)  # the data group checked before any file is read
    else:
        check_encoder_settings(cfg)
    if cfg.audit.model == "tfidf" or blended:
        check_tfidf_settings(cfg.tfidf)


def interrupted_note(cfg: DictConfig) -> str:
    """What a stopped audit keeps (the one line ``cli.run_command`` prints) and how to go on."""
    return (f"its finished folds are kept in {cfg.paths.output_dir}: rerun with the same settings and "
            f"hydra.run.dir={cfg.paths.output_dir} to go on from there.")


def run_audit(cfg: DictConfig) -> dict[str, Any]:
    """The ``review_cls.audit`` job: every review scored out of fold, cleanlab's ranking written to the run folder;
    each finished fold is saved, so a rerun of the same settings goes on from there."""
    check_audit_settings(cfg)
    return audit_labels(cfg)
