"""Loggers as config groups: a real two-trial sweep with logger=many, read back from MLflow's SQLite store and the
CSV files (each trial its own MLflow run in one experiment, with params, final metrics and report artifacts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from review_cls.errors import ConfigError
from review_cls.training.run_reports import viewer_hint
from tests.helpers import CONF_DIR, REPO_ROOT, fails

REPORT_FILES = {"training_curves.png", "reliability_diagram.png", "history.csv", "confusion_matrix.png",
                "classification_report.txt", "classification_report.json", "test_predictions.csv"}


@pytest.fixture(scope="module")
def sweep(tiny_bert_dir: Path, small_reviews_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m review_cls.train -m logger=many seed=1,2`` on the tiny BERT; returns the log folder."""
    log_dir = tmp_path_factory.mktemp("logs")
    command = [
        sys.executable, "-m", "review_cls.train", "-m", "logger=many", "seed=1,2",
        f"model.pretrained={tiny_bert_dir}", f"data.path={small_reviews_csv}", f"paths.log_dir={log_dir}",
        f"hydra.sweep.dir={log_dir}/sweep", "data.batch_size=32", "trainer.max_epochs=2", "trainer.accelerator=cpu",
        "model.lr=1e-3", "callbacks.progress_bar=null", "baseline=false",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(command, cwd=log_dir, capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return log_dir


def mlflow_client(log_dir: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{log_dir}/mlflow.db")


def trial_record(log_dir: Path, seed: int) -> dict:
    folder = next(path for path in (log_dir / "sweep").iterdir() if path.name.startswith(f"{seed - 1}_"))
    return json.loads((folder / "metrics.json").read_text()) | {"folder": folder}


def test_each_trial_is_one_finished_mlflow_run_in_one_experiment(sweep):
    client = mlflow_client(sweep)
    experiment = client.get_experiment_by_name("review_cls")
    runs = client.search_runs([experiment.experiment_id], order_by=["params.seed ASC"])
    assert [run.data.params["seed"] for run in runs] == ["1", "2"]
    assert {run.info.status for run in runs} == {"FINISHED"}
    assert len({run.info.run_id for run in runs}) == 2
    assert experiment.artifact_location == str(sweep / "mlartifacts")


def test_mlflow_run_holds_settings_final_metrics_and_epoch_scalars(sweep):
    client = mlflow_client(sweep)
    runs = client.search_runs([client.get_experiment_by_name("review_cls").experiment_id])
    for run in runs:
        record = trial_record(sweep, int(run.data.params["seed"]))
        assert run.data.params["model.lr"] == "0.001" and run.data.params["data.batch_size"] == "32"
        assert run.data.metrics["hparams/best_val_f1_macro"] == pytest.approx(record["metrics"]["val/f1_macro_best"])
        assert run.data.metrics["hparams/test_f1_macro"] == pytest.approx(record["metrics"]["test/f1_macro"])
        history = client.get_metric_history(run.info.run_id, "val/f1_macro")
        assert len(history) == 2  # one value per epoch, as TensorBoard gets them
        assert run.data.tags["run_folder"] == str(record["folder"])


def test_mlflow_run_holds_the_report_files(sweep):
    client = mlflow_client(sweep)
    for run in client.search_runs([client.get_experiment_by_name("review_cls").experiment_id]):
        names = {Path(item.path).name for item in client.list_artifacts(run.info.run_id, "reports")}
        assert names == REPORT_FILES
        local = Path(client.download_artifacts(run.info.run_id, "reports/classification_report.json",
                                               str(sweep / f"download_{run.info.run_id}")))
        folder = trial_record(sweep, int(run.data.params["seed"]))["folder"]
        assert local.read_bytes() == (folder / "classification_report.json").read_bytes()


def test_csv_logger_has_epoch_rows_and_the_final_metrics(sweep):
    record = trial_record(sweep, 1)
    table = pd.read_csv(record["folder"] / "csv" / "metrics.csv")
    assert table["val/f1_macro"].notna().sum() == 2
    best = record["metrics"]["val/f1_macro_best"]
    assert table["hparams/best_val_f1_macro"].dropna().tolist() == pytest.approx([best])
    assert "model.lr: 0.001" in (record["folder"] / "csv" / "hparams.yaml").read_text()
    assert list(record["folder"].glob("events.out.tfevents.*"))  # TensorBoard still gets its events


def test_run_summary_says_how_to_open_the_mlflow_store():
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="train", overrides=["logger=many", "paths.log_dir=/data/logs"])
    assert viewer_hint(cfg).splitlines() == [
        "open in TensorBoard:  tensorboard --logdir /data/logs",
        "open in MLflow:  mlflow ui --backend-store-uri sqlite:////data/logs/mlflow.db",
    ]


@pytest.mark.parametrize("choice, names", [("tensorboard", ["tensorboard"]), ("csv", ["csv"]),
                                           ("mlflow", ["mlflow"]), ("many", ["tensorboard", "csv", "mlflow"]),
                                           ("wandb", ["wandb"])])
def test_logger_choices_compose(choice, names):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="train", overrides=[f"logger={choice}"])
    assert list(cfg.logger) == names


def test_a_damaged_mlflow_store_is_an_error_naming_the_file(compose_train_cfg, tmp_path):
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    (log_dir / "mlflow.db").write_text("not a database")
    fails(compose_train_cfg("logger=mlflow", f"paths.log_dir={log_dir}"), ConfigError,
          "logger.mlflow (lightning.pytorch.loggers.MLFlowLogger) could not start", f"sqlite:///{log_dir}/mlflow.db")
    assert (log_dir / "mlflow.db").read_text() == "not a database", "the store is left for the user to look at"


def test_a_logger_whose_package_is_missing_names_it(compose_train_cfg):
    fails(compose_train_cfg("+logger.extra._target_=no_such_tracker.Logger"), ConfigError,
          "logger.extra (no_such_tracker.Logger) needs a package that is not installed")
