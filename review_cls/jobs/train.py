"""The ``review_cls.train`` job: one training run from a composed config: data, model, trainer, fit, test on the best
checkpoint, reports."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import lightning as L
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from review_cls.data.datamodule import ReviewDataModule
from review_cls.data.tokenizers import tokenizer_files
from review_cls.errors import ConfigError
from review_cls.jobs.baseline import baseline_for_run
from review_cls.models.module import ReviewClassifier
from review_cls.sweeps.record import best_checkpoint_score, class_support, write_run_record
from review_cls.training.calibration import calibrate_best_checkpoint
from review_cls.training.interrupts import fit_or_interrupt, stop_after_interrupt
from review_cls.training.preflight import check_training_settings, run_checked_job
from review_cls.training.run_reports import report_training_run
from review_cls.training.thresholds import fit_best_thresholds
from review_cls.utils.atomic import atomic_file
from review_cls.utils.hardware import resolve_precision

log = logging.getLogger(__name__)


def instantiate_callbacks(callbacks_cfg: DictConfig | None) -> list[L.Callback]:
    """Every entry with a ``_target_`` under ``callbacks`` becomes a callback; ``null`` entries switch one off."""
    return [instantiate(entry) for entry in (callbacks_cfg or {}).values() if entry and "_target_" in entry]


def instantiate_loggers(logger_cfg: DictConfig | None) -> list[Any]:
    """The configured loggers; one that cannot start (its package missing, its store damaged) is a ConfigError
    naming the logger and its store, before the run writes anything."""
    loggers = []
    for name, entry in (logger_cfg or {}).items():
        if not entry or "_target_" not in entry:
            continue
        try:
            loggers.append(instantiate(entry))
        except Exception as exc:  # noqa: BLE001 - any logger's failure to start, stated once
            raise ConfigError(logger_failure(str(name), entry, exc.__cause__ or exc)) from exc
    return loggers


def logger_failure(name: str, entry: DictConfig, cause: BaseException) -> str:
    if isinstance(cause, ImportError):
        return (f"logger.{name} ({entry._target_}) needs a package that is not installed ({cause}): install it "
                f"(logger=mlflow: pip install -e \".[mlflow]\"; logger=wandb: pip install wandb) or choose another "
                "logger (logger=tensorboard, csv, mlflow, many, wandb).")
    store = entry.get("tracking_uri") or entry.get("save_dir") or entry.get("dir")
    where = f" Its store is {store}: if that file or folder is damaged, move it away or set paths.log_dir." if store \
        else ""
    return f"logger.{name} ({entry._target_}) could not start: {type(cause).__name__}: {cause}.{where}"


def check_max_epochs(max_epochs: Any) -> None:
    """A whole number >= 1: -1 (endless), 0 (an untrained model tested as if trained) and text are refused."""
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
        raise ConfigError(
            f"trainer.max_epochs must be a whole number >= 1, got {max_epochs!r}. To test a checkpoint without "
            "training, pass train=false ckpt_path=<checkpoint>."
        )


def check_accumulation(value: Any) -> None:
    """Batches per optimizer step: a whole number >= 1 (0 divides by zero inside Lightning)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(f"trainer.accumulate_grad_batches must be a whole number >= 1, got {value!r}.")


def build_trainer(cfg: DictConfig, callbacks: list[L.Callback], loggers: list[Any]) -> L.Trainer:
    """The Trainer from config, with ``precision: auto`` resolved for the hardware at hand."""
    trainer_cfg = OmegaConf.to_container(cfg.trainer, resolve=True)
    check_max_epochs(trainer_cfg.get("max_epochs"))
    check_accumulation(trainer_cfg.get("accumulate_grad_batches"))
    trainer_cfg["precision"] = resolve_precision(trainer_cfg.get("precision"), trainer_cfg.get("accelerator", "auto"))
    try:
        return instantiate(trainer_cfg, callbacks=callbacks, logger=loggers or False)
    except InstantiationException as exc:
        raise ConfigError(
            f"The trainer settings are not usable: {exc.__cause__ or exc}. Check the trainer.* overrides "
            "(precision, accelerator, devices, strategy)."
        ) from exc


def build_datamodule(cfg: DictConfig) -> ReviewDataModule:
    datamodule: ReviewDataModule = instantiate(cfg.data)
    datamodule.setup("fit")
    return datamodule


def build_model(cfg: DictConfig, datamodule: ReviewDataModule) -> ReviewClassifier:
    model: ReviewClassifier = instantiate(cfg.model)(
        labels=datamodule.labels, train_label_ids=datamodule.train_label_ids, max_length=datamodule.max_length,
        vocab_size=len(datamodule.tokenizer), token_vocab=datamodule.tokenizer.get_vocab(),
        multilabel=datamodule.multilabel,
    )
    model.tokenizer_files = tokenizer_files(datamodule.tokenizer)
    return model


def own_best_checkpoint(trainer: L.Trainer, output_dir: str) -> str:
    """The best checkpoint, copied into this run first when it belongs to the run it resumed (still the best):
    calibration rewrites the file it tests, and a resumed run must never change another run's files."""
    best = trainer.checkpoint_callback.best_model_path
    run_dir = Path(output_dir).resolve()
    if not best or not trainer.is_global_zero or Path(best).resolve().is_relative_to(run_dir):
        return best
    copy = run_dir / "checkpoints" / Path(best).name
    copy.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(copy) as temporary:
        shutil.copyfile(best, temporary)
    trainer.checkpoint_callback.best_model_path = str(copy)
    return str(copy)


def run_training(cfg: DictConfig) -> dict[str, float]:
    """Fit, then test the best checkpoint; returns every logged metric as a float.

    Settings are checked before any data is read; Ctrl+C still tests and reports the best checkpoint so far. A run
    that stops with a project error leaves no folder that looks like a real run (training/failed_runs.py).
    """
    return run_checked_job(cfg, check_training_settings, _train)


def _train(cfg: DictConfig, ckpt_path: str | None) -> dict[str, float]:
    # the trainer group is checked by building the Trainer, before any data is read
    trainer = build_trainer(cfg, instantiate_callbacks(cfg.get("callbacks")), instantiate_loggers(cfg.get("logger")))
    datamodule = build_datamodule(cfg)
    model = build_model(cfg, datamodule)
    interrupted = cfg.get("train", True) and fit_or_interrupt(trainer, model, datamodule, ckpt_path)
    metrics = {name: float(value) for name, value in trainer.callback_metrics.items()}
    metrics.update(best_checkpoint_score(trainer))
    testing = bool(cfg.get("test", True))
    tested: str | None = None
    if testing:
        best = own_best_checkpoint(trainer, cfg.paths.output_dir) if trainer.checkpoint_callback else ""
        # train=false tests the given checkpoint (e.g. to evaluate one on 1 vs N devices)
        tested = best or (None if cfg.get("train", True) else ckpt_path)
        if best and trainer.world_size == 1 and (datamodule.multilabel or cfg.get("calibration")):
            # multi-label: per-label thresholds; single-label: temperature (and logit adjustment)
            tuned = (fit_best_thresholds(model, datamodule, best, cfg.paths.output_dir) if datamodule.multilabel
                     else calibrate_best_checkpoint(cfg.calibration, model, datamodule, best, cfg.paths.output_dir))
            for logger in trainer.loggers:
                logger.log_metrics(tuned, step=trainer.global_step)
            metrics.update(tuned)
        trainer.test(model, datamodule=datamodule, ckpt_path=tested, weights_only=True)
        metrics.update({name: float(value) for name, value in trainer.callback_metrics.items()})
    if cfg.get("baseline", False) and trainer.is_global_zero:
        metrics.update(baseline_for_run(cfg))
    metrics.update(report_training_run(cfg, trainer, model, datamodule, metrics, ckpt_path=tested, tested=testing))
    if trainer.is_global_zero:
        support = class_support(datamodule.splits["test"].label_counts) if testing else None
        write_run_record(cfg.paths.output_dir, metrics, cfg.get("optimized_metric", ""), test_support=support)
    if interrupted:
        stop_after_interrupt(trainer, cfg.paths.output_dir, interrupted)
    return metrics
