"""After a tested run and its TF-IDF baseline: the model blended with it (models/blend.py), the model's share chosen on
the validation split by the ``blend.rule`` setting, scored on test, and recorded in the tested best checkpoint, so
predict, evaluate, select and export ship it. Read from the run folder's four predictions tables (the model's and
``baseline/``'s, validation and test): :func:`read_run_predictions`, which bench/blend_rules.py reads them with too."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig

from review_cls.errors import ConfigError
from review_cls.inference.checkpoints import read_checkpoint
from review_cls.models.blend import CHECKPOINT_KEY, RULES, BlendRecord, fit_blend
from review_cls.models.tfidf_store import TFIDF_FILE, file_sha256
from review_cls.reports.multilabel import JOIN
from review_cls.reports.predictions import predictions_file
from review_cls.training.tfidf_baseline import stage_metrics
from review_cls.utils.atomic import atomic_file
from review_cls.utils.run_folder import BASELINE, RunFolder

log = logging.getLogger(__name__)
PREFIX = "blend/"
PROBABILITY_PREFIX = "prob_"
# a multi-label blend's other test scores, beside its macro-F1
MULTILABEL_SCORES = ("f1_micro", "f1_samples")


@dataclass(frozen=True)
class RunPredictions:
    """One split of a finished run as its predictions tables hold it: the model's and its TF-IDF baseline's
    probabilities (same reviews in the same order, one column per label) and the targets (label ids, or an
    N x labels 0/1 matrix for a multi-label run)."""

    labels: list[str]
    texts: list[str]
    model: np.ndarray
    tfidf: np.ndarray
    targets: np.ndarray


def read_run_predictions(run_dir: str | Path, stage: str) -> RunPredictions:
    """Split ``stage`` (val or test) of a run folder: ``<stage>_predictions.csv`` of the model and of ``baseline/``.
    Tables of different reviews or labels are a ``ValueError`` naming the run."""
    run_dir = Path(run_dir)
    model, tfidf = (read_predictions_table(folder / predictions_file(stage)) for folder in (run_dir, run_dir / BASELINE))
    columns = [column for column in model.columns if column.startswith(PROBABILITY_PREFIX)]
    labels = [column.removeprefix(PROBABILITY_PREFIX) for column in columns]
    if not model.index.equals(tfidf.index) or columns != [c for c in tfidf.columns if c.startswith(PROBABILITY_PREFIX)]:
        raise ValueError(f"{run_dir}: the model and its baseline scored different {stage} reviews or labels.")
    if "true_labels" in model:  # multi-label: 'a|b', '' for none
        names = model["true_labels"].str.split(JOIN)
        targets = np.array([[label in row for label in labels] for row in names], dtype=int)
    else:
        index = {label: i for i, label in enumerate(labels)}
        targets = model["true_label"].map(index).to_numpy()
    return RunPredictions(labels, model["text"].tolist(), model[columns].to_numpy(float), tfidf[columns].to_numpy(float),
                          targets)


def read_predictions_table(path: Path) -> pd.DataFrame:
    """A predictions table indexed by ``row_id``, texts and labels read as text ('1' stays '1', 'NA' stays 'NA')."""
    frame = pd.read_csv(path, dtype={"text": str, "true_label": str, "true_labels": str}, keep_default_na=False)
    return frame.set_index("row_id").sort_index()


def blend_rule(cfg: DictConfig) -> str | None:
    """The rule of the ``blend`` setting (``blend: {rule: f1}``), or ``None`` for ``blend: null``."""
    setting = cfg.get("blend")
    if setting is None:
        return None
    if not isinstance(setting, Mapping) or set(setting) != {"rule"} or setting["rule"] not in RULES:
        raise ConfigError(f"blend must be {{rule: {' | '.join(RULES)}}} (e.g. blend.rule=log_loss) or null (the model "
                          f"alone ships), got {setting!r}.")
    return str(setting["rule"])


def why_no_blend(cfg: DictConfig, best: str) -> str | None:
    """Why this run records no blend (a few words for the end-of-run panel), or ``None`` when it does."""
    if blend_rule(cfg) is None:
        return "blend=null"
    if not cfg.baseline:
        return "baseline=false: no TF-IDF baseline to blend with"
    if not cfg.test:
        return "test=false"
    if not best:
        return "no best checkpoint of this run to record it in"
    return None


def blend_best_checkpoint(rule: str, run_dir: str | Path, ckpt_path: str,
                          metrics: Mapping[str, float]) -> dict[str, float]:
    """Choose the blend on validation by ``rule``, score it on test, write its :class:`BlendRecord` into
    ``ckpt_path`` (atomically; the model's and TF-IDF's test macro-F1 taken from ``metrics``); returns
    ``blend/weight``, ``blend/val_f1_macro``, ``blend/test_f1_macro`` (multi-label: also ``blend/test_f1_micro``,
    ``blend/test_f1_samples``)."""
    run_dir = Path(run_dir)
    val, test = read_run_predictions(run_dir, "val"), read_run_predictions(run_dir, "test")
    chosen = fit_blend(val.model, val.tfidf, val.targets, rule)
    scores = {stage: stage_metrics(stage, split.labels, split.targets, chosen.probabilities(split.model, split.tfidf),
                                   chosen.thresholds) for stage, split in (("val", val), ("test", test))}
    blended = {f"{PREFIX}weight": chosen.weight, f"{PREFIX}val_f1_macro": scores["val"]["val/f1_macro"],
               f"{PREFIX}test_f1_macro": scores["test"]["test/f1_macro"]}
    if chosen.thresholds is not None:
        blended |= {f"{PREFIX}test_{name}": scores["test"][f"test/{name}"] for name in MULTILABEL_SCORES}
    tfidf_path = run_dir / BASELINE / TFIDF_FILE
    record = BlendRecord(chosen, Path(os.path.relpath(tfidf_path, RunFolder.of_checkpoint(ckpt_path).folder)).as_posix(),
                         file_sha256(tfidf_path),
                         {"model": metrics["test/f1_macro"], "tfidf": metrics["baseline/test_f1_macro"],
                          "blend": blended[f"{PREFIX}test_f1_macro"]})
    checkpoint = read_checkpoint(ckpt_path)
    checkpoint[CHECKPOINT_KEY] = record.to_dict()
    with atomic_file(ckpt_path) as temporary:
        torch.save(checkpoint, temporary)
    log.info("Blend with TF-IDF chosen on validation (rule %s): model share %.2f; test macro-F1 %.4f (model %.4f, "
             "TF-IDF %.4f)", rule, chosen.weight, blended[f"{PREFIX}test_f1_macro"], metrics["test/f1_macro"],
             metrics["baseline/test_f1_macro"])
    return blended


def forget_blend(ckpt_path: str) -> None:
    """Drop a blend record this run did not write from its best checkpoint (a resumed run's copy of the best
    checkpoint of the run it resumed keeps that run's record, which names another run's TF-IDF file)."""
    checkpoint = read_checkpoint(ckpt_path)
    if checkpoint.pop(CHECKPOINT_KEY, None) is not None:
        with atomic_file(ckpt_path) as temporary:
            torch.save(checkpoint, temporary)
