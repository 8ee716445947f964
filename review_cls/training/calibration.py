"""After training: fit temperature (and, if asked, a post-hoc logit adjustment) on the validation split, fold them
into the best checkpoint, and report expected calibration error before and after (JSON, TensorBoard, a PNG).

The test split is only scored, never used to choose (see models/calibration.py for the math).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from review_cls.utils.atomic import atomic_file
from review_cls.inference.checkpoints import read_checkpoint
from review_cls.data.datamodule import ReviewDataModule
from review_cls.models.calibration import (
    choose_logit_adjustment,
    expected_calibration_error,
    fit_temperature,
    fold_into_head,
    log_prior,
    macro_f1,
    output_layer,
)
from review_cls.models.module import ReviewClassifier
from review_cls.reports.figures import save_png
from review_cls.reports.reliability import plot_reliability

log = logging.getLogger(__name__)
PREFIX = "calibration/"
RELIABILITY_PNG = "reliability_diagram.png"


@torch.no_grad()  # not inference_mode: fit_temperature differentiates through these logits
def split_logits(model: ReviewClassifier, loader: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw logits and labels of one split, in loader order."""
    model.eval()
    logits, labels = [], []
    for batch in loader:
        logits.append(model(batch["input_ids"].to(model.device), batch["attention_mask"].to(model.device)).float().cpu())
        labels.append(batch["labels"])
    return torch.cat(logits), torch.cat(labels)


def calibrate_best_checkpoint(settings: DictConfig, model: ReviewClassifier, datamodule: ReviewDataModule,
                              ckpt_path: str, output_dir: str) -> dict[str, float]:
    """Fit on validation, rewrite ``ckpt_path`` with the calibrated head, return the calibration metrics."""
    checkpoint = read_checkpoint(ckpt_path)
    model.load_state_dict(checkpoint["state_dict"])
    val_logits, val_labels = split_logits(model, datamodule.val_dataloader())
    test_logits, test_labels = split_logits(model, datamodule.test_dataloader())
    prior = log_prior(datamodule.train_label_ids, len(model.labels))
    tau = choose_logit_adjustment(val_logits, val_labels, prior) if settings["logit_adjustment"] else 0.0
    offsets = tau * prior
    temperature = fit_temperature(val_logits - offsets, val_labels) if settings["temperature"] else 1.0
    metrics = {
        "temperature": temperature,
        "logit_adjustment": tau,
        "val_ece_before": expected_calibration_error(val_logits, val_labels),
        "val_ece_after": expected_calibration_error(val_logits - offsets, val_labels, temperature),
        "test_ece_before": expected_calibration_error(test_logits, test_labels),
        "test_ece_after": expected_calibration_error(test_logits - offsets, test_labels, temperature),
        "val_f1_macro_before": macro_f1(val_logits, val_labels),
        "val_f1_macro_after": macro_f1(val_logits - offsets, val_labels),
        "test_f1_macro_before": macro_f1(test_logits, test_labels),
        "test_f1_macro_after": macro_f1(test_logits - offsets, test_labels),
    }
    fold_into_head(output_layer(model.model, len(model.labels)), temperature, offsets)
    checkpoint["state_dict"] = model.state_dict()
    checkpoint["calibration"] = metrics
    with atomic_file(ckpt_path) as temporary:
        torch.save(checkpoint, temporary)
    write_calibration_reports(Path(output_dir), metrics, test_logits, test_labels, offsets)
    log.info("Calibration on validation: temperature %.3f, logit adjustment tau %.2f; test ECE %.4f -> %.4f",
             temperature, tau, metrics["test_ece_before"], metrics["test_ece_after"])
    return {PREFIX + name: value for name, value in metrics.items()}


def write_calibration_reports(output_dir: Path, metrics: dict[str, float], test_logits: torch.Tensor,
                              test_labels: torch.Tensor, offsets: torch.Tensor) -> None:
    """``calibration.json`` and ``reliability_diagram.png`` (test split, before and after) in the run folder."""
    with atomic_file(output_dir / "calibration.json") as temporary:
        temporary.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    after = ((test_logits - offsets) / metrics["temperature"]).softmax(dim=-1)
    curves = {
        "before": (test_logits.softmax(dim=-1), test_labels, metrics["test_ece_before"]),
        f"after (T={metrics['temperature']:.2f}, tau={metrics['logit_adjustment']:.2f})": (
            after, test_labels, metrics["test_ece_after"]),
    }
    save_png(plot_reliability(curves, "test split: reliability"), output_dir / RELIABILITY_PNG)
