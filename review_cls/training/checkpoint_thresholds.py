"""After a multi-label run: choose each label's threshold on the validation split and write it into the best
checkpoint (its ``thresholds`` buffer and hyperparameter), so test, predict, evaluate and export all use it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch

from review_cls.data.datamodule import ReviewDataModule
from review_cls.inference.checkpoints import read_checkpoint
from review_cls.models.module import ReviewClassifier
from review_cls.models.task import DEFAULT_THRESHOLD
from review_cls.models.threshold_choice import choose_thresholds, per_label_f1
from review_cls.training.calibration import split_logits
from review_cls.utils.atomic import atomic_file
from review_cls.utils.run_folder import THRESHOLDS_JSON

log = logging.getLogger(__name__)


def fit_best_thresholds(model: ReviewClassifier, datamodule: ReviewDataModule, ckpt_path: str,
                        output_dir: str) -> dict[str, float]:
    """Choose on validation, rewrite ``ckpt_path`` with the thresholds, write ``thresholds.json``; returns the
    validation macro-F1 at 0.5 and at the chosen thresholds (``thresholds/val_f1_macro_*``)."""
    checkpoint = read_checkpoint(ckpt_path)
    model.load_state_dict(checkpoint["state_dict"])
    logits, targets = split_logits(model, datamodule.unsharded_loader("val"))
    probabilities, targets = model.task.probabilities(logits).numpy(), targets.numpy()
    thresholds = choose_thresholds(probabilities, targets)
    with torch.no_grad():
        model.thresholds.copy_(torch.as_tensor(thresholds))
    checkpoint["state_dict"] = model.state_dict()
    checkpoint["hyper_parameters"]["thresholds"] = [float(value) for value in thresholds]
    with atomic_file(ckpt_path) as temporary:
        torch.save(checkpoint, temporary)
    metrics = {
        "val_f1_macro_at_0.5": float(per_label_f1(probabilities, targets, [DEFAULT_THRESHOLD]).mean()),
        "val_f1_macro": float(np.diag(per_label_f1(probabilities, targets, thresholds)).mean()),
    }
    record = {"thresholds": dict(zip(model.labels, map(float, thresholds))), **metrics}
    with atomic_file(Path(output_dir) / THRESHOLDS_JSON) as temporary:
        temporary.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log.info("Per-label thresholds chosen on validation: macro-F1 %.4f at 0.5 -> %.4f", metrics["val_f1_macro_at_0.5"],
             metrics["val_f1_macro"])
    return {f"thresholds/{name}": value for name, value in metrics.items()}
