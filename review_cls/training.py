"""One training run from a composed config: data, model, trainer, fit, test on the best checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from review_cls.checkpoints import resolve_ckpt_path
from review_cls.data.datamodule import ReviewDataModule
from review_cls.hardware import resolve_precision
from review_cls.models.backbone import tokenizer_files
from review_cls.models.module import ReviewClassifier

log = logging.getLogger(__name__)


def instantiate_callbacks(callbacks_cfg: DictConfig | None) -> list[L.Callback]:
    """Every entry with a ``_target_`` under ``callbacks`` becomes a callback; ``null`` entries switch one off."""
    return [instantiate(entry) for entry in (callbacks_cfg or {}).values() if entry and "_target_" in entry]


def instantiate_loggers(logger_cfg: DictConfig | None) -> list[Any]:
    return [instantiate(entry) for entry in (logger_cfg or {}).values() if entry and "_target_" in entry]


def build_trainer(cfg: DictConfig, callbacks: list[L.Callback], loggers: list[Any]) -> L.Trainer:
    """The Trainer from config, with ``precision: auto`` resolved for the hardware at hand."""
    trainer_cfg = OmegaConf.to_container(cfg.trainer, resolve=True)
    trainer_cfg["precision"] = resolve_precision(trainer_cfg.get("precision"), trainer_cfg.get("accelerator", "auto"))
    return instantiate(trainer_cfg, callbacks=callbacks, logger=loggers or False)


def build_datamodule(cfg: DictConfig) -> ReviewDataModule:
    datamodule: ReviewDataModule = instantiate(cfg.data)
    datamodule.setup("fit")
    return datamodule


def build_model(cfg: DictConfig, datamodule: ReviewDataModule) -> ReviewClassifier:
    model: ReviewClassifier = instantiate(cfg.model)(
        labels=datamodule.labels, train_label_ids=datamodule.train_label_ids, max_length=datamodule.max_length
    )
    model.tokenizer_files = tokenizer_files(datamodule.tokenizer)
    return model


def run_training(cfg: DictConfig) -> dict[str, float]:
    """Fit, then test the best checkpoint; returns every logged metric as a float."""
    L.seed_everything(cfg.seed, workers=True)
    datamodule = build_datamodule(cfg)
    model = build_model(cfg, datamodule)
    trainer = build_trainer(cfg, instantiate_callbacks(cfg.get("callbacks")), instantiate_loggers(cfg.get("logger")))
    ckpt_path = resolve_ckpt_path(cfg.get("ckpt_path"), Path(cfg.paths.log_dir))
    if cfg.get("train", True):
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    metrics = {name: float(value) for name, value in trainer.callback_metrics.items()}
    if cfg.get("test", True):
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        trainer.test(model, datamodule=datamodule, ckpt_path=best or None, weights_only=True)
        metrics.update({name: float(value) for name, value in trainer.callback_metrics.items()})
    return metrics
