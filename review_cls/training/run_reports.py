"""After a training run's test: the model's predictions and report files, curves, TensorBoard images and HPARAMS, the
loggers' final metrics, and the closing summary (model, TF-IDF and blend rows)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig, OmegaConf

from review_cls.data.datamodule import ReviewDataModule
from review_cls.inference.predictor import predict_probabilities
from review_cls.models.module import ReviewClassifier
from review_cls.reports.console_summary import print_summary
from review_cls.reports.curves import best_epoch, plot_training_curves
from review_cls.reports.figures import save_png
from review_cls.reports.logger_results import log_results_to_loggers
from review_cls.reports.predictions import ReportPaths, write_prediction_reports, write_predictions_table
from review_cls.reports.tensorboard import hparam_metrics, log_to_tensorboard, run_hparams, tensorboard_loggers
from review_cls.training.calibration import RELIABILITY_PNG
from review_cls.training.callbacks import EpochHistory
from review_cls.utils.run_folder import BASELINE, CURVES_PNG, THRESHOLDS_JSON


def split_probabilities(trainer: L.Trainer, model: ReviewClassifier, datamodule: ReviewDataModule,
                        ckpt_path: str | None, stage: str = "test") -> np.ndarray:
    """Probabilities of split ``stage`` from the tested weights, in the split's order.

    ``trainer.predict`` on the test loader sees the very batches ``trainer.test`` scored, so the report's numbers
    equal the logged ones. Under DDP each rank's predict would see only a shard, so rank 0 scores the split alone.
    """
    if trainer.world_size > 1:
        return predict_probabilities(model, datamodule.tokenizer, datamodule.splits[stage].texts,
                                     datamodule.settings.max_length, datamodule.settings.eval_batch_size, model.task)
    loader = datamodule.unsharded_loader(stage)
    batches = trainer.predict(model, dataloaders=loader, ckpt_path=ckpt_path, weights_only=True)
    return torch.cat(batches).float().numpy()


def monitored(trainer: L.Trainer) -> tuple[str, str]:
    """What the checkpoint callback ranks epochs by (so "best epoch" is the tested one); val macro-F1 otherwise."""
    callback = trainer.checkpoint_callback
    if isinstance(callback, ModelCheckpoint) and callback.monitor:
        return callback.monitor, callback.mode
    return "val/f1_macro", "max"


def report_training_run(cfg: DictConfig, trainer: L.Trainer, datamodule: ReviewDataModule,
                        metrics: Mapping[str, float], report: dict | None, ckpt_path: str | None, blend: str) -> None:
    """Write curves (if an :class:`EpochHistory` ran), log the images, HPARAMS and final metrics to the loggers and
    print the summary, with the test split's classification ``report`` when the run was tested. ``blend``: the rule
    that chose the blend's weight when ``metrics`` hold ``blend/*``, else why the run has none. Rank 0 only."""
    if not trainer.is_global_zero:
        return
    output_dir = Path(cfg.paths.output_dir)
    history_callback = next((cb for cb in trainer.callbacks if isinstance(cb, EpochHistory)), None)
    history = history_callback.frame() if history_callback else None
    monitor, mode = monitored(trainer)
    best = best_epoch(history, monitor, mode) if history is not None else None
    images: dict[str, Path] = {}
    if history is not None and len(history):
        images["reports/training_curves"] = save_png(plot_training_curves(history, best, monitor), output_dir / CURVES_PNG)
    paths = ReportPaths.of(output_dir)
    if report is not None:
        images["reports/confusion_matrix"] = paths.confusion_matrix
    reliability = output_dir / RELIABILITY_PNG
    if "calibration/temperature" in metrics and reliability.is_file():
        images["reports/reliability_diagram"] = reliability
    best_val = _value_at(history, best, "val/f1_macro")
    final_metrics = hparam_metrics(metrics, best_val)
    for logger in tensorboard_loggers(trainer):
        log_to_tensorboard(logger, images, trainer.global_step, run_hparams(cfg), final_metrics)
    reports = {"curves": output_dir / CURVES_PNG, "history": history_callback.path if history_callback else None,
               "confusion matrix": paths.confusion_matrix, "report": paths.report_txt,
               "report (JSON)": paths.report_json, "predictions": paths.predictions,
               "reliability diagram": images.get("reports/reliability_diagram")}
    log_results_to_loggers(trainer, [Path(path) for path in reports.values() if path is not None], run_hparams(cfg),
                           final_metrics)
    facts = training_facts(metrics, best, history, monitor, best_val, blend)
    artifacts = {**reports, "checkpoint": Path(ckpt_path) if ckpt_path else None,
                 "TF-IDF baseline": output_dir / BASELINE, "thresholds": output_dir / THRESHOLDS_JSON}
    print_summary("review_cls.train: run finished", output_dir, facts, report, datamodule.labels,
                  {name: path for name, path in artifacts.items() if path is not None},
                  hint=viewer_hint(cfg))


def viewer_hint(cfg: DictConfig) -> str:
    """The command that opens the run: TensorBoard, plus ``mlflow ui`` when the MLflow logger is configured."""
    hint = f"open in TensorBoard:  tensorboard --logdir {shlex.quote(str(cfg.paths.log_dir))}"
    tracking_uri = OmegaConf.select(cfg, "logger.mlflow.tracking_uri", default=None)
    if tracking_uri:
        hint += f"\nopen in MLflow:  mlflow ui --backend-store-uri {shlex.quote(tracking_uri)}"
    return hint


def write_test_reports(trainer: L.Trainer, model: ReviewClassifier, datamodule: ReviewDataModule, output_dir: Path,
                       ckpt_path: str | None) -> dict:
    """The test split's report files and the validation split's predictions table from the tested weights (what the
    blend with TF-IDF is chosen on and scored by); returns the classification report as written to JSON. Rank 0."""
    thresholds = None if model.thresholds is None else model.thresholds.cpu().numpy()
    val = datamodule.splits["val"]
    write_predictions_table(output_dir, "val", datamodule.labels, val.label_ids(datamodule.labels),
                            split_probabilities(trainer, model, datamodule, ckpt_path, "val"), val.texts,
                            val.row_ids, thresholds)
    split = datamodule.splits["test"]
    y_true = split.label_ids(datamodule.labels)
    probabilities = split_probabilities(trainer, model, datamodule, ckpt_path)
    write_prediction_reports(output_dir, datamodule.labels, y_true, probabilities, split.texts, split.row_ids,
                             thresholds=thresholds)
    return json.loads(ReportPaths.of(output_dir).report_json.read_text(encoding="utf-8"))


def samples_f1(report: Mapping[str, Any]) -> dict[str, float]:
    """What only the report computes: a multi-label run's ``test/f1_samples`` (scikit-learn's samples average)."""
    return {"test/f1_samples": float(report["samples avg"]["f1-score"])} if "samples avg" in report else {}


def training_facts(metrics: Mapping[str, float], best: int | None, history: pd.DataFrame | None, monitor: str,
                   best_val: float | None, blend: str) -> dict[str, str]:
    """The headline lines: best epoch, then one row each for the model, the TF-IDF baseline (if it ran) and the blend
    of the two (``blend``: the rule that chose its weight, or why there is none), with val and test macro-F1."""
    facts: dict[str, str] = {}
    if best is not None:
        facts["best epoch"] = f"{best} (of {len(history)}, by {monitor})"
    # the tested checkpoint's val score: after the post-hoc logit adjustment when calibration chose one
    val = metrics.get("calibration/val_f1_macro_after") if metrics.get("calibration/logit_adjustment") else best_val
    val = metrics.get("thresholds/val_f1_macro", val)  # multi-label: at the thresholds the test uses
    rows = {"model": (val, metrics.get("test/f1_macro")),
            "TF-IDF": (metrics.get("baseline/val_f1_macro"), metrics.get("baseline/test_f1_macro")),
            "blend": (metrics.get("blend/val_f1_macro"), metrics.get("blend/test_f1_macro"))}
    for name, scores in rows.items():
        shown = [f"{stage} macro-F1 {value:.4f}" for stage, value in zip(("val", "test"), scores) if value is not None]
        if shown:
            facts[name] = "   ".join(shown)
    if "blend/weight" in metrics:
        weight = metrics["blend/weight"]
        others = "".join(f"   test {name} {metrics[key]:.4f}" for name, key in
                         (("micro-F1", "blend/test_f1_micro"), ("samples-F1", "blend/test_f1_samples")) if key in metrics)
        facts["blend"] += f"{others}   (model share {weight:.2f}, rule {blend}): what review_cls.predict ships"
    else:
        facts["blend"] = f"none ({blend}): review_cls.predict ships the model alone"
    if "test/acc" in metrics:
        weighted = metrics.get("test/f1_weighted", float("nan"))
        facts["test accuracy"] = f"{metrics['test/acc']:.4f}   weighted-F1 {weighted:.4f}"
    if "test/f1_micro" in metrics:
        facts["test multi-label"] = (
            f"micro-F1 {metrics['test/f1_micro']:.4f}   samples-F1 {metrics.get('test/f1_samples', float('nan')):.4f}   "
            f"subset accuracy {metrics['test/subset_acc']:.4f}   Hamming {metrics['test/hamming']:.4f}   "
            f"macro-F1 at 0.5 {metrics['test/f1_macro_at_0.5']:.4f} (per-label thresholds chosen on validation)")
    if "calibration/test_ece_before" in metrics:
        facts["test calibration"] = (
            f"ECE {metrics['calibration/test_ece_before']:.4f} -> {metrics['calibration/test_ece_after']:.4f}   "
            f"(temperature {metrics['calibration/temperature']:.2f}, logit adjustment tau "
            f"{metrics['calibration/logit_adjustment']:.2f}, fitted on validation)"
        )
    return facts


def _value_at(history: pd.DataFrame | None, epoch: int | None, column: str) -> float | None:
    if history is None or epoch is None or column not in history:
        return None
    return float(history.loc[history["epoch"] == epoch, column].iloc[0])
