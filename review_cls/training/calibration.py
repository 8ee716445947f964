"""Confidence that means what it says, fitted after training: temperature scaling (Guo et al. 2017) and, if asked,
post-hoc logit adjustment (Menon et al. 2021), both chosen on the validation split and folded into the best
checkpoint's classification head; expected calibration error before and after (JSON, TensorBoard, a PNG).

Both are exact edits of the last linear layer: ``(W h + b - tau * log prior) / T`` is ``W' h + b'`` with
``W' = W / T`` and ``b' = (b - tau * log prior) / T``. So the best checkpoint, ``predict``, ``evaluate`` and an
exported folder (``transformers.pipeline`` included) all give the calibrated probabilities with no extra code.
Temperature never changes which class wins; the logit adjustment can, and is only used when it is switched on
and raises validation macro-F1. The test split is only scored, never used to choose.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig
from sklearn.metrics import f1_score
from torchmetrics.functional.classification import multiclass_calibration_error

from review_cls.data.datamodule import ReviewDataModule
from review_cls.inference.checkpoints import read_checkpoint
from review_cls.models.losses import class_log_prior
from review_cls.models.module import ReviewClassifier
from review_cls.reports.figures import save_png
from review_cls.reports.reliability import plot_reliability
from review_cls.utils.atomic import atomic_file
from review_cls.utils.run_folder import CALIBRATION_JSON, RELIABILITY_PNG

log = logging.getLogger(__name__)
PREFIX = "calibration/"
ECE_BINS = 15
TAU_GRID = tuple(np.round(np.arange(0.0, 2.01, 0.25), 2))


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, steps: int = 100) -> float:
    """The T > 0 minimising the negative log-likelihood of ``softmax(logits / T)`` (optimised as log T)."""
    log_t = torch.zeros((), requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=steps, line_search_fn="strong_wolfe")
    logits, labels = logits.detach().float(), labels.detach().long()

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())


def expected_calibration_error(logits: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0) -> float:
    """ECE of the top-class confidence in 15 equal-width bins (torchmetrics)."""
    probabilities = (logits.float() / temperature).softmax(dim=-1)
    return float(multiclass_calibration_error(probabilities, labels.long(), num_classes=logits.shape[1],
                                              n_bins=ECE_BINS, norm="l1"))


def macro_f1(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float(f1_score(labels.numpy(), logits.argmax(dim=-1).numpy(), average="macro",
                          labels=list(range(logits.shape[1])), zero_division=0))


def choose_logit_adjustment(logits: torch.Tensor, labels: torch.Tensor, prior: torch.Tensor,
                            grid: Sequence[float] = TAU_GRID) -> float:
    """The tau of ``logits - tau * log prior`` with the best validation macro-F1 (the smallest on ties; 0 = none)."""
    scores = [macro_f1(logits - tau * prior, labels) for tau in grid]
    return float(grid[int(np.argmax(scores))])


def output_layer(model: torch.nn.Module, num_labels: int) -> torch.nn.Linear:
    """The last linear layer producing the ``num_labels`` logits (``classifier`` in BERT, ``out_proj`` in RoBERTa)."""
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.out_features == num_labels]
    if not layers:
        raise ValueError(f"No linear layer with {num_labels} outputs to fold the calibration into.")
    return layers[-1]


@torch.no_grad()
def fold_into_head(layer: torch.nn.Linear, temperature: float, offsets: torch.Tensor | None = None) -> None:
    """Make ``layer`` output ``(logits - offsets) / temperature`` instead of ``logits``."""
    if offsets is not None:
        layer.bias.sub_(offsets.to(layer.bias))
    layer.weight.div_(temperature)
    layer.bias.div_(temperature)


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
    val_logits, val_labels = split_logits(model, datamodule.unsharded_loader("val"))
    test_logits, test_labels = split_logits(model, datamodule.unsharded_loader("test"))
    if settings["logit_adjustment"]:
        shares = class_log_prior(datamodule.train_label_ids, model.labels, "calibration.logit_adjustment")
        prior = torch.as_tensor(shares, dtype=torch.float32)
        tau = choose_logit_adjustment(val_logits, val_labels, prior)
        offsets = tau * prior
    else:
        tau, offsets = 0.0, torch.zeros(len(model.labels))
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
    with atomic_file(output_dir / CALIBRATION_JSON) as temporary:
        temporary.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    after = ((test_logits - offsets) / metrics["temperature"]).softmax(dim=-1)
    curves = {
        "before": (test_logits.softmax(dim=-1), test_labels, metrics["test_ece_before"]),
        f"after (T={metrics['temperature']:.2f}, tau={metrics['logit_adjustment']:.2f})": (
            after, test_labels, metrics["test_ece_after"]),
    }
    save_png(plot_reliability(curves, "test split: reliability"), output_dir / RELIABILITY_PNG)
