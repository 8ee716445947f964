"""Final results in non-TensorBoard loggers: CSV hparams and last metrics row, MLflow params, metrics and files."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import yaml
from lightning.pytorch.loggers import CSVLogger, MLFlowLogger, TensorBoardLogger

from review_cls.reports.logger_results import MLFLOW_REPORTS, log_results_to_loggers

HPARAMS = {"model.lr": 0.001, "seed": 3}
METRICS = {"hparams/test_f1_macro": 0.75, "hparams/test_acc": 0.8}


def test_csv_logger_gets_the_settings_and_the_final_metrics_at_the_last_step(tmp_path):
    csv = CSVLogger(tmp_path / "csv", name="run", version=0)
    trainer = SimpleNamespace(loggers=[csv], global_step=12)
    log_results_to_loggers(trainer, files=[], hparams=HPARAMS, metrics=METRICS)
    folder = tmp_path / "csv" / "run" / "version_0"
    assert yaml.safe_load((folder / "hparams.yaml").read_text()) == HPARAMS
    last = pd.read_csv(folder / "metrics.csv").iloc[-1]
    assert last["step"] == 12
    assert last["hparams/test_f1_macro"] == 0.75 and last["hparams/test_acc"] == 0.8


def test_tensorboard_loggers_are_left_alone(tmp_path):
    board = TensorBoardLogger(tmp_path / "tb", name="run", version=0)
    csv = CSVLogger(tmp_path / "csv", name="run", version=0)
    log_results_to_loggers(SimpleNamespace(loggers=[board, csv], global_step=1), files=[], hparams=HPARAMS,
                           metrics=METRICS)
    assert not (tmp_path / "tb").exists()
    assert (tmp_path / "csv" / "run" / "version_0" / "hparams.yaml").is_file()


def test_mlflow_run_gets_params_metrics_and_only_the_existing_report_files_and_ends_finished(tmp_path):
    report = tmp_path / "classification_report.txt"
    report.write_text("precision recall\n", encoding="utf-8")
    mlflow = MLFlowLogger(experiment_name="review_cls", tracking_uri=f"sqlite:///{tmp_path}/mlflow.db",
                          artifact_location=str(tmp_path / "artifacts"))
    log_results_to_loggers(SimpleNamespace(loggers=[mlflow], global_step=5),
                           files=[report, tmp_path / "missing.png"], hparams=HPARAMS, metrics=METRICS)
    run = mlflow.experiment.get_run(mlflow.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"model.lr": "0.001", "seed": "3"}
    assert run.data.metrics == METRICS
    files = [item.path for item in mlflow.experiment.list_artifacts(mlflow.run_id, MLFLOW_REPORTS)]
    assert files == [f"{MLFLOW_REPORTS}/classification_report.txt"]


def test_no_metrics_logs_the_settings_without_a_metrics_row(tmp_path):
    csv = CSVLogger(tmp_path / "csv", name="run", version=0)
    log_results_to_loggers(SimpleNamespace(loggers=[csv], global_step=3), files=[], hparams=HPARAMS, metrics={})
    folder = tmp_path / "csv" / "run" / "version_0"
    assert yaml.safe_load((folder / "hparams.yaml").read_text()) == HPARAMS
    assert not (folder / "metrics.csv").exists()
