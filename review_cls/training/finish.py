"""After fitting, in this order: the best checkpoint tuned on validation (single-label: temperature and logit
adjustment folded into its head; multi-label: per-label thresholds), tested, the TF-IDF baseline on the run's own
split, the model's validation and test predictions, the blend of the two chosen on validation and recorded in the
best checkpoint, the reports and summary, and the run record ``metrics.json``."""

from __future__ import annotations

import shutil
from pathlib import Path

import lightning as L
from omegaconf import DictConfig

from review_cls.data.datamodule import ReviewDataModule
from review_cls.models.module import ReviewClassifier
from review_cls.training.calibration import calibrate_best_checkpoint
from review_cls.training.checkpoint_thresholds import fit_best_thresholds
from review_cls.training.run_blend import blend_best_checkpoint, blend_rule, forget_blend, why_no_blend
from review_cls.training.run_reports import report_training_run, samples_f1, write_test_reports
from review_cls.training.tfidf_baseline import baseline_for_run
from review_cls.utils.atomic import atomic_file
from review_cls.utils.run_folder import CHECKPOINTS, best_checkpoint_score, class_support, write_run_record


def finish_run(cfg: DictConfig, trainer: L.Trainer, model: ReviewClassifier, datamodule: ReviewDataModule,
               ckpt_path: str | None) -> dict[str, float]:
    """Every logged metric of the run as a float, once its files are written; ``ckpt_path`` is the checkpoint the
    run resumed from (tested as given when ``train=false``)."""
    metrics = {name: float(value) for name, value in trainer.callback_metrics.items()}
    metrics.update(best_checkpoint_score(trainer))
    testing = bool(cfg.test)
    tested: str | None = None
    best = ""
    if testing:
        best = own_best_checkpoint(trainer, cfg.paths.output_dir) if trainer.checkpoint_callback else ""
        best = trainer.strategy.broadcast(best, src=0)  # under DDP every rank tests rank 0's (copied, tuned) file
        # train=false tests the given checkpoint (e.g. to evaluate one on 1 vs N devices)
        tested = best or (None if cfg.train else ckpt_path)
        if best and (datamodule.multilabel or cfg.calibration):
            metrics.update(log_final(trainer, tune_best_checkpoint(cfg, trainer, model, datamodule, best)))
        trainer.test(model, datamodule=datamodule, ckpt_path=tested, weights_only=True)
        metrics.update({name: float(value) for name, value in trainer.callback_metrics.items()})
    if cfg.baseline and trainer.is_global_zero:
        metrics.update(baseline_for_run(cfg))
    report = None
    if testing and trainer.is_global_zero:
        report = write_test_reports(trainer, model, datamodule, Path(cfg.paths.output_dir), tested)
        metrics.update(samples_f1(report))
    blended, blend = ship_blend(cfg, trainer, best, metrics)
    metrics.update(blended)
    report_training_run(cfg, trainer, datamodule, metrics, report, ckpt_path=tested, blend=blend)
    if trainer.is_global_zero:
        support = class_support(datamodule.splits["test"].label_counts) if testing else None
        write_run_record(cfg.paths.output_dir, metrics, cfg.optimized_metric, test_support=support)
    return metrics


def ship_blend(cfg: DictConfig, trainer: L.Trainer, best: str,
               metrics: dict[str, float]) -> tuple[dict[str, float], str]:
    """On rank 0, the blend with TF-IDF chosen on validation and recorded in ``best``: its metrics and its rule; or
    none, and why (a record an earlier run left in a copied ``best`` dropped)."""
    no_blend = why_no_blend(cfg, best)
    if not trainer.is_global_zero:
        return {}, no_blend or ""
    if no_blend is not None:
        if best:
            forget_blend(best)
        return {}, no_blend
    rule = blend_rule(cfg)
    return log_final(trainer, blend_best_checkpoint(rule, cfg.paths.output_dir, best, metrics)), rule


def log_final(trainer: L.Trainer, metrics: dict[str, float]) -> dict[str, float]:
    """``metrics`` logged once to every logger at the last step (calibration, thresholds, the blend); returned."""
    for logger in trainer.loggers:
        logger.log_metrics(metrics, step=trainer.global_step)
    return metrics


def tune_best_checkpoint(cfg: DictConfig, trainer: L.Trainer, model: ReviewClassifier, datamodule: ReviewDataModule,
                         best: str) -> dict[str, float]:
    """Multi-label: per-label thresholds; single-label: temperature (and logit adjustment); fitted on the whole
    validation split and written into ``best`` by rank 0 alone, the other ranks waiting for the file; every rank
    returns rank 0's metrics."""
    tuned: dict[str, float] = {}
    if trainer.is_global_zero:
        tuned = (fit_best_thresholds(model, datamodule, best, cfg.paths.output_dir) if datamodule.multilabel
                 else calibrate_best_checkpoint(cfg.calibration, model, datamodule, best, cfg.paths.output_dir))
    trainer.strategy.barrier("tuned_best_checkpoint")
    return trainer.strategy.broadcast(tuned, src=0)


def own_best_checkpoint(trainer: L.Trainer, output_dir: str) -> str:
    """The best checkpoint, copied into this run first when it belongs to the run it resumed (still the best):
    calibration rewrites the file it tests, and a resumed run must never change another run's files."""
    best = trainer.checkpoint_callback.best_model_path
    run_dir = Path(output_dir).resolve()
    if not best or not trainer.is_global_zero or Path(best).resolve().is_relative_to(run_dir):
        return best
    copy = run_dir / CHECKPOINTS / Path(best).name
    copy.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(copy) as temporary:
        shutil.copyfile(best, temporary)
    trainer.checkpoint_callback.best_model_path = str(copy)
    return str(copy)
