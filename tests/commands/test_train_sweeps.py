"""Sweeps: per-run metrics.json, failed trials that do not stop a sweep, the ranked summary, Optuna, launchers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hydra import compose, initialize_config_dir

from review_cls.sweeps.sweep_summary import SUMMARY_CSV, SUMMARY_MD, SUMMARY_PNG
from tests.helpers import CONF_DIR, PNG_MAGIC, REPO_ROOT


def tiny_cli_overrides(tiny_bert_dir: Path, data: Path, log_dir: Path) -> list[str]:
    return [
        f"model.pretrained={tiny_bert_dir}", "data=file", f"data.path={data}", "data.text_column=review",
        "data.label_column=category", f"paths.log_dir={log_dir}", "trainer.max_epochs=2", "trainer.accelerator=cpu",
        "callbacks.progress_bar=null", "data.batch_size=16",
    ]


def multirun(*args: str) -> subprocess.CompletedProcess:
    """``python -m review_cls.train -m ARGS``; a later override of the same key wins, so sweeps go last."""
    command = [sys.executable, "-m", "review_cls.train", "-m", *args]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result


def only_sweep_dir(log_dir: Path) -> Path:
    sweeps = list((log_dir / "multiruns").iterdir())
    assert len(sweeps) == 1, sweeps
    return sweeps[0]


def logged_values(run_dir: Path, tag: str) -> list[float]:
    """Every value TensorBoard holds for ``tag`` in a run folder, in logging order."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    return [event.value for event in EventAccumulator(str(run_dir)).Reload().Scalars(tag)]


def assert_summary_matches_run_records(sweep_dir: Path) -> pd.DataFrame:
    """Every row of sweep_summary.csv carries the numbers of its run's metrics.json, which are the logged ones:
    the validation column is the best epoch's macro-F1 (the tested checkpoint), not the last epoch's."""
    table = pd.read_csv(sweep_dir / SUMMARY_CSV)
    for row in table.itertuples():
        record = json.loads((sweep_dir / row.run / "metrics.json").read_text())
        assert row.status == record["status"]
        if row.status == "ok":
            metrics, run_dir = record["metrics"], sweep_dir / row.run
            assert metrics["val/f1_macro_best"] == pytest.approx(max(logged_values(run_dir, "val/f1_macro")), abs=1e-6)
            assert metrics["test/f1_macro"] == pytest.approx(logged_values(run_dir, "test/f1_macro")[-1], abs=1e-6)
            assert row.val_f1_macro == pytest.approx(metrics["val/f1_macro_best"], abs=1e-12)
            assert row.test_f1_macro == pytest.approx(metrics["test/f1_macro"], abs=1e-12)
            support = record["test_support"]
            assert support[row.rare_class] == min(support.values())
            assert row.rare_class_test_f1 == pytest.approx(metrics[f"test/f1/{row.rare_class}"], abs=1e-12)
    return table


def test_glob_experiment_grid_sweep_in_parallel_survives_a_nan_trial(tiny_bert_dir, small_reviews_csv, tmp_path):
    """`+experiment/ablation=glob(...)` (ablations picked from their folder) times a 2-point grid, 2 trials at a time
    (joblib launcher); lr=1e30 makes the loss NaN: those trials are recorded as failed, the others finish and are
    ranked."""
    log_dir = tmp_path / "logs"
    multirun(*tiny_cli_overrides(tiny_bert_dir, small_reviews_csv, log_dir), "hydra/launcher=local_parallel",
             "hydra.launcher.n_jobs=2", "+experiment/ablation=glob(*_only)", "model.lr=1e-3,1e30")

    sweep_dir = only_sweep_dir(log_dir)
    table = assert_summary_matches_run_records(sweep_dir)
    assert sorted(run.split("_", 1)[0] for run in table["run"]) == ["0", "1", "2", "3"]
    names = ["ablation-focal_only"] * 2 + ["ablation-undersample_only"] * 2
    assert sorted(run.split("_", 1)[1] for run in table["run"]) == names
    for row in table.itertuples():  # each trial runs in a folder named after its own experiment
        assert f"+experiment/ablation={row.run.split('_', 1)[1].removeprefix('ablation-')}" in row.swept.split()
    failed = table[table["status"] == "failed"]
    expected = [f"+experiment/ablation={name} model.lr=1e+30" for name in ("focal_only", "undersample_only")]
    assert sorted(failed["swept"]) == expected
    assert failed["error"].str.contains("TrainingDivergedError: Training loss became nan").all()
    finished = table[table["status"] == "ok"]
    assert len(finished) == 2 and finished["best"].sum() == 1 and table["best"].iloc[0]
    assert finished["val_f1_macro"].is_monotonic_decreasing
    for run in finished["run"]:  # the finished trials kept their checkpoints
        assert list((sweep_dir / run / "checkpoints").glob("best-*.ckpt"))
    markdown = (sweep_dir / SUMMARY_MD).read_text()
    assert "4 run(s), 2 failed" in markdown
    assert (sweep_dir / SUMMARY_PNG).read_bytes().startswith(PNG_MAGIC)


def test_optuna_search_records_a_failed_trial_and_reports_the_best(tiny_bert_dir, small_reviews_csv, tmp_path):
    """The packaged search space, with lr narrowed on the command line to a good and a NaN-making value: the failed
    trial returns None, which Optuna records as FAIL, and the search still reports its best trial. (The TPE sampler is
    seeded by ``seed``, so its two draws are fixed: lr=1e30 first, then 1e-3.)"""
    log_dir = tmp_path / "logs"
    multirun(*tiny_cli_overrides(tiny_bert_dir, small_reviews_csv, log_dir),
             "hparams_search=optuna", "hydra.sweeper.n_trials=2", "model.lr=choice(0.001,1e30)")

    sweep_dir = only_sweep_dir(log_dir)
    table = assert_summary_matches_run_records(sweep_dir)
    assert table["status"].tolist() == ["ok", "failed"]
    assert "TrainingDivergedError" in table["error"].iloc[1]
    results = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert set(results["best_params"]) == {"model.lr", "model.dropout", "model.gamma", "model.weight_decay",
                                           "model.warmup_ratio", "data.resampling.strategy"}
    assert results["best_params"]["model.lr"] == 0.001
    best = table.iloc[0]
    assert best["best"] and best["val_f1_macro"] == pytest.approx(results["best_value"], abs=1e-12)
    record = json.loads((sweep_dir / best["run"] / "metrics.json").read_text())
    strategy = results["best_params"]["data.resampling.strategy"]
    assert f"data.resampling.strategy={strategy}" in record["overrides"]
    assert "Optuna best trial" in (sweep_dir / SUMMARY_MD).read_text()


def test_optuna_search_with_no_finished_trial_ends_with_the_summary_and_an_error(tiny_bert_dir, small_reviews_csv,
                                                                                  tmp_path):
    log_dir = tmp_path / "logs"
    command = [sys.executable, "-m", "review_cls.train", "-m",
               *tiny_cli_overrides(tiny_bert_dir, small_reviews_csv, log_dir), "trainer.max_epochs=1",
               "hparams_search=optuna", "hydra.sweeper.n_trials=2", "model.lr=choice(1e30)"]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "error: none of the 2 trials of the search finished" in result.stderr
    assert "TrainingDivergedError" in result.stderr and "Traceback" not in result.stderr
    sweep_dir = only_sweep_dir(log_dir)
    assert "2 run(s), 2 failed" in (sweep_dir / SUMMARY_MD).read_text()


@pytest.mark.parametrize(("launcher", "target"), [
    ("local_parallel", "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"),
    ("slurm", "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"),
])
def test_launcher_configs_compose(launcher, target):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="train", overrides=[f"hydra/launcher={launcher}"], return_hydra_config=True)
    assert cfg.hydra.launcher._target_ == target
    assert cfg.hydra.callbacks.sweep_summary._target_ == "review_cls.sweeps.callback.SweepSummary"
