"""Report images and the HPARAMS tab in the run's TensorBoard events (next to the per-epoch scalars)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger
from matplotlib.image import imread
from omegaconf import DictConfig, OmegaConf

# The settings a sweep varies, as dotted config keys: one HPARAMS column each.
HPARAM_KEYS = (
    "model.lr", "model.dropout", "model.gamma", "model.alpha", "model.weight_decay", "model.warmup_ratio",
    "data.resampling.strategy", "data.batch_size", "data.max_length", "model.pretrained", "experiment_name", "seed",
)


def tensorboard_loggers(trainer: L.Trainer) -> list[TensorBoardLogger]:
    return [logger for logger in trainer.loggers if isinstance(logger, TensorBoardLogger)]


def run_hparams(cfg: DictConfig) -> dict[str, int | float | str | bool]:
    """The run's key settings, flat and TensorBoard-typed: unset ones read ``null``, lists become text."""
    values = {key: OmegaConf.select(cfg, key, default=None) for key in HPARAM_KEYS}
    values = {key: OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
              for key, value in values.items()}
    return {key: value if isinstance(value, (int, float, str, bool)) else "null" if value is None else str(value)
            for key, value in values.items()}


def hparam_metrics(metrics: Mapping[str, float], best_val_f1: float | None) -> dict[str, float]:
    """Final numbers for the HPARAMS table, under their own ``hparams/`` tags so the epoch curves stay clean: the
    model's, and the blend with TF-IDF (what predict ships) when the run chose one."""
    chosen = {"hparams/best_val_f1_macro": best_val_f1}
    chosen |= {f"hparams/test_{name}": metrics.get(f"test/{name}") for name in ("f1_macro", "f1_weighted", "acc")}
    chosen |= {f"hparams/blend_{name}": metrics.get(f"blend/{name}") for name in ("test_f1_macro", "weight")}
    return {name: float(value) for name, value in chosen.items() if value is not None}


def log_to_tensorboard(logger: TensorBoardLogger, images: Mapping[str, Path], step: int,
                       hparams: Mapping[str, Any], metrics: Mapping[str, float]) -> None:
    """Add the report PNGs as images (exactly the files on disk), fill the HPARAMS tab with real final metrics,
    and flush to disk."""
    for tag, path in images.items():
        logger.experiment.add_image(tag, imread(path)[..., :3], global_step=step, dataformats="HWC")
    if metrics:
        logger.log_hyperparams(dict(hparams), metrics=dict(metrics), step=step)
    logger.finalize("success")
