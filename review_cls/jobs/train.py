"""The ``review_cls.train`` job: one training run from a composed config: data, model, trainer, fit, then test on the
best checkpoint and report (training/finish.py)."""

from __future__ import annotations

from omegaconf import DictConfig

from review_cls.training.builders import (
    build_datamodule,
    build_model,
    build_trainer,
    instantiate_callbacks,
    instantiate_loggers,
)
from review_cls.training.finish import finish_run
from review_cls.training.interrupts import fit_or_interrupt, stop_after_interrupt
from review_cls.training.preflight import check_training_settings, prepare_run


def run_training(cfg: DictConfig) -> dict[str, float]:
    """Fit, then test the best checkpoint; returns every logged metric as a float.

    Settings are checked before any data is read; Ctrl+C and SIGTERM still test and report the best checkpoint so
    far (the command leaves SIGTERM to Lightning: ``run_command(..., sigterm=False)``).
    """
    ckpt_path = prepare_run(cfg, check_training_settings)
    # the trainer group is checked by building the Trainer, before any data is read
    trainer = build_trainer(cfg, instantiate_callbacks(cfg.get("callbacks")), instantiate_loggers(cfg.get("logger")))
    datamodule = build_datamodule(cfg)
    model = build_model(cfg, datamodule)
    interrupted = cfg.train and fit_or_interrupt(trainer, model, datamodule, ckpt_path)
    metrics = finish_run(cfg, trainer, model, datamodule, ckpt_path)
    if interrupted:
        stop_after_interrupt(trainer, cfg.paths.output_dir, interrupted)
    return metrics
