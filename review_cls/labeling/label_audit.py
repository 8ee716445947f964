"""An audit of a labeled file's labels: every review scored by a model that never saw it (stratified folds, TF-IDF or
the fine-tuned encoder, by default blended 50/50 with the fold's TF-IDF), cleanlab's ranking of the suspected label errors written to the run folder as
``label_issues.csv`` and ``label_issues.md``. Each finished fold is saved, so a rerun of the same settings goes on
from there."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf, open_dict

from review_cls.data.label_sets import LabelSpec
from review_cls.data.prepare import (
    LABEL_CONFLICTS,
    LabeledReviews,
    drop_rare_classes,
    read_labeled,
    write_label_conflicts,
)
from review_cls.errors import ConfigError, DataError
from review_cls.labeling.folds import (
    FitPredict,
    check_fold_counts,
    check_fold_settings,
    fold_of_rows,
    out_of_sample_probabilities,
)
from review_cls.labeling.issues import (
    ISSUES_CSV,
    ISSUES_MD,
    issue_report,
    rank_label_issues,
    write_issue_report,
    write_issue_table,
)
from review_cls.models.blend import FIXED_WEIGHT, blend
from review_cls.models.tfidf import build_tfidf_pipeline, full_probabilities
from review_cls.utils.atomic import refuse_writing_over_inputs

log = logging.getLogger(__name__)
MODES = ("tfidf", "finetune")
# the run folder's subfolder of finished folds, one folder per mode
FOLDS = "folds"
# the files an audit writes into its run folder, beside the folds
RUN_FILES = (ISSUES_CSV, ISSUES_MD, LABEL_CONFLICTS)
AUDIT_IS_SINGLE_LABEL = ("audit ranks one label per review (cleanlab's single-label ranking); multi-label data is "
                         "not supported.")


def audit_labels(cfg: DictConfig) -> dict[str, Any]:
    """Score every review out of fold with ``cfg.audit.model``, rank the suspected label errors and write them to
    ``cfg.paths.output_dir``. ``cfg`` is audit's checked config (conf/audit.yaml)."""
    output_dir = Path(cfg.paths.output_dir)
    folds, mode = int(cfg.audit.folds), str(cfg.audit.model)
    data = cfg.data
    check_run_folder(output_dir, data.path)
    reviews = read_labeled(data.path, data.text_column, data.label_column, data.sheet_name, data.encoding,
                           data.get("sep"), LabelSpec.of(data))
    if reviews.multilabel:
        raise DataError(f"'{data.path}' reads as multi-label data (data.task=auto: several labels on many of its "
                        f"texts), but {AUDIT_IS_SINGLE_LABEL} Set data.task=single to audit it as one label per text "
                        "(each text keeps its first label).")
    if write_label_conflicts([reviews], output_dir) is not None:
        log.warning("%d text(s) of '%s' are filed under different labels: the clearest label errors, listed in %s "
                    "apart from the ranking (each text is audited with its first label).", len(reviews.conflicts),
                    data.path, output_dir / LABEL_CONFLICTS)
    if data.min_class_count:
        reviews = drop_rare_classes(reviews, int(data.min_class_count))
    check_fold_counts(reviews, folds)
    labels = sorted(set(reviews.labels))
    fold = fold_of_rows(reviews.labels, folds, int(cfg.seed))
    blended = mode == "finetune" and bool(cfg.audit.blend)
    fit_predict = tfidf_fold(cfg, labels) if mode == "tfidf" else finetune_fold(cfg, labels, blended)
    # blended and unblended folds are kept apart, so a resumed audit never mixes the two
    folder = output_dir / FOLDS / (f"{mode}_blend" if blended else mode)
    check_fold_settings(folder, fold_settings(cfg, mode, blended))
    probabilities = out_of_sample_probabilities(reviews, labels, fold, folder, fit_predict)
    issues = rank_label_issues(reviews, labels, probabilities, fold, str(cfg.audit.filter_by))
    write_issue_table(issues, output_dir / ISSUES_CSV)
    scored_by = f"{mode}, audit.blend=true" if blended else mode
    report = issue_report(issues, len(reviews), str(data.path), scored_by, folds, int(cfg.audit.examples))
    write_issue_report(report, output_dir / ISSUES_MD)
    log.info("%d of %d reviews look mislabeled -> %s", len(issues), len(reviews), output_dir / ISSUES_CSV)
    print(f"audit: {len(issues)} suspected label errors in {len(reviews)} reviews -> {output_dir / ISSUES_CSV}")
    return {"reviews": len(reviews), "issues": len(issues), "output": str(output_dir / ISSUES_CSV)}


def fold_settings(cfg: DictConfig, mode: str, blended: bool) -> dict[str, Any]:
    """The settings a fold model of ``mode`` is fitted with (the data as read, the TF-IDF, and for the fine-tuned
    folds the model and trainer groups), which a resumed audit must share."""
    groups = ["data", "tfidf", "seed"] + (["model", "trainer"] if mode == "finetune" else [])
    if mode == "finetune" and not blended:
        groups.remove("tfidf")
    return {group: OmegaConf.to_container(cfg[group], resolve=True) if isinstance(cfg[group], DictConfig)
            else cfg[group] for group in groups}


def check_single_label(spec: LabelSpec) -> None:
    """The audit ranks one given label per review against a model's probabilities: multi-label data is refused
    before it is read."""
    if spec.multilabel_before_reading:
        given = ("data.task=multilabel" if spec.task == "multilabel" and not spec.gives_sets
                 else f"data.label_separator={spec.separator!r}" if spec.separator
                 else f"data.label_columns={list(spec.columns)}")
        raise ConfigError(f"{given} makes the data multi-label, but {AUDIT_IS_SINGLE_LABEL} Audit a single-label "
                          "file, or check a multi-label model's errors with evaluate (per label).")


def check_run_folder(output_dir: Path, data_path: str) -> None:
    """Nothing the audit writes replaces a file of the user's: not the data it reads, and not a ``label_issues``
    file in a run folder (``hydra.run.dir``) that holds no audit's ``folds/`` (a rerun of an audit replaces its
    own)."""
    refuse_writing_over_inputs({"data.path": data_path},
                               [("hydra.run.dir", output_dir / name) for name in RUN_FILES],
                               [("hydra.run.dir", output_dir / FOLDS)])
    found = [name for name in RUN_FILES if (output_dir / name).exists()]
    if found and not (output_dir / FOLDS).is_dir():
        raise ConfigError(f"'{output_dir}' (hydra.run.dir) holds {' and '.join(found)} but no audit's {FOLDS}/ "
                          "folder: files of yours that the audit would replace. Move them, or set hydra.run.dir to "
                          "a new folder.")


def tfidf_fold(cfg: DictConfig, labels: list[str]) -> FitPredict:
    """The baseline's TF-IDF + logistic regression (conf/tfidf/), fitted on each fold's training reviews."""
    options = OmegaConf.to_container(cfg.tfidf, resolve=True)

    def fit_predict(train: LabeledReviews, held: LabeledReviews, folder: Path) -> np.ndarray:
        pipeline = build_tfidf_pipeline(**options, seed=int(cfg.seed))
        pipeline.fit(train.texts, train.label_ids(labels))
        return full_probabilities(pipeline, held.texts, len(labels))

    return fit_predict


def finetune_fold(cfg: DictConfig, labels: list[str], blended: bool) -> FitPredict:
    """The configured encoder trained on each fold's training reviews by the training job's own builders (the
    trainer.* settings, no checkpoints, loggers or validation), then scoring the held-out reviews; ``blended``: its
    probabilities averaged 50/50 with a TF-IDF fitted on the same training reviews, as predict ships a blend (a fold
    has no validation split to choose the weight on, and the held-out labels are the ones audited: the fixed rule)."""
    from review_cls.inference.predictor import predict_probabilities
    from review_cls.training.builders import build_datamodule, build_model, build_trainer
    from review_cls.training.interrupts import fit_or_raise_interrupt

    tfidf = tfidf_fold(cfg, labels) if blended else None

    def fit_predict(train: LabeledReviews, held: LabeledReviews, folder: Path) -> np.ndarray:
        fold_cfg = fold_training_config(cfg, folder, write_fold_tables(cfg, train, held, folder))
        L.seed_everything(int(cfg.seed), workers=True)
        trainer = build_trainer(fold_cfg, [], [])
        datamodule = build_datamodule(fold_cfg)
        model = build_model(fold_cfg, datamodule)
        fit_or_raise_interrupt(trainer, model, datamodule)
        # Lightning hands the model back on the CPU after fit: score the held-out reviews where it trained
        model = model.eval().to(trainer.strategy.root_device)
        found = predict_probabilities(model, datamodule.tokenizer, held.texts, datamodule.settings.max_length,
                                      int(cfg.data.eval_batch_size))
        columns = [datamodule.labels.index(label) for label in labels]
        found = found[:, columns].astype(np.float64)
        return found if tfidf is None else blend(found, tfidf(train, held, folder), FIXED_WEIGHT)

    return fit_predict


def write_fold_tables(cfg: DictConfig, train: LabeledReviews, held: LabeledReviews, folder: Path) -> dict[str, str]:
    """The fold's reviews as CSV files in the data's own column names: the data module reads them as split files."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, part in (("train", train), ("held_out", held)):
        path = folder / f"{name}.csv"
        pd.DataFrame({cfg.data.text_column: part.texts, cfg.data.label_column: part.labels}).to_csv(path, index=False)
        paths[name] = str(path)
    return {"train": paths["train"], "val": paths["held_out"], "test": paths["held_out"]}


def fold_training_config(cfg: DictConfig, folder: Path, split_paths: dict[str, str]) -> DictConfig:
    """The run's config for one fold: its split files (read as plain UTF-8 CSV) and a Trainer that only fits."""
    fold_cfg = cfg.copy()
    with open_dict(fold_cfg):
        fold_cfg.data.update(split_paths=split_paths, sheet_name=None, encoding="utf-8", sep=None)
        fold_cfg.trainer.update(default_root_dir=str(folder), enable_checkpointing=False, limit_val_batches=0,
                                enable_progress_bar=False, enable_model_summary=False)
    return fold_cfg
