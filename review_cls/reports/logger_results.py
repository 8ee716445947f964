"""A finished run's results in every configured logger besides TensorBoard: the HPARAMS settings with the final
metrics (MLflow params + metrics, CSV hparams.yaml + a last metrics.csv row) and, for MLflow, the report files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.loggers import MLFlowLogger, TensorBoardLogger

# the artifact folder in an MLflow run that holds the run folder's report files
MLFLOW_REPORTS = "reports"


def log_results_to_loggers(trainer: L.Trainer, files: Iterable[Path], hparams: Mapping[str, Any],
                           metrics: Mapping[str, float]) -> None:
    """Log ``hparams`` and the final ``metrics`` (at the last step) to each non-TensorBoard logger, upload the
    existing ``files`` to MLflow runs, and close each logger (an MLflow run ends FINISHED)."""
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):  # reports.tensorboard fills its HPARAMS tab and images
            continue
        logger.log_hyperparams(dict(hparams))
        if metrics:
            logger.log_metrics(dict(metrics), step=trainer.global_step)
        if isinstance(logger, MLFlowLogger):
            for path in files:
                if path.is_file():
                    logger.experiment.log_artifact(logger.run_id, str(path), artifact_path=MLFLOW_REPORTS)
        logger.save()
        logger.finalize("success")
