"""The TF-IDF baseline: same split as a training run, metrics equal to its own report files, config checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from review_cls.jobs.baseline import run_baseline
from review_cls.jobs.train import run_training
from tests.helpers import CONF_DIR, REPO_ROOT


def compose_baseline(data_path: Path, out_dir: Path, *overrides: str):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose("baseline", overrides=[f"data.path={data_path}", f"paths.output_dir={out_dir}", *overrides])


def test_baseline_metrics_match_its_report_files(small_reviews_csv: Path, tmp_path: Path) -> None:
    metrics = run_baseline(compose_baseline(small_reviews_csv, tmp_path))
    report = json.loads((tmp_path / "classification_report.json").read_text())
    written = json.loads((tmp_path / "metrics.json").read_text())["metrics"]
    predictions = pd.read_csv(tmp_path / "test_predictions.csv")
    split = json.loads((tmp_path / "split.json").read_text())

    assert written == pytest.approx(metrics)
    assert metrics["test/f1_macro"] == pytest.approx(report["macro avg"]["f1-score"])
    assert metrics["test/acc"] == pytest.approx(predictions["correct"].mean())
    assert sorted(predictions["row_id"]) == split["test"]
    assert (tmp_path / "confusion_matrix.png").stat().st_size > 0
    assert 0.0 <= metrics["val/f1_macro"] <= 1.0


def test_baseline_keeps_its_fitted_pipeline_which_scores_the_test_split_again(small_reviews_csv: Path,
                                                                              tmp_path: Path) -> None:
    from review_cls.models.tfidf_store import TFIDF_FILE, load_tfidf

    run_baseline(compose_baseline(small_reviews_csv, tmp_path))
    predictions = pd.read_csv(tmp_path / "test_predictions.csv")
    stored = load_tfidf(tmp_path / TFIDF_FILE)
    columns = [f"prob_{label}" for label in stored.labels]
    assert stored.predict_probabilities(predictions["text"].tolist()) == pytest.approx(predictions[columns].to_numpy(),
                                                                                    abs=1e-12)


def test_baseline_follows_a_given_split_file(small_reviews_csv: Path, tmp_path: Path) -> None:
    """A hand-made split (every 5th row is test) is used as given, not re-drawn from the seed."""
    rows = list(range(len(pd.read_csv(small_reviews_csv))))
    split = {"source": str(small_reviews_csv), "test": rows[::5], "val": rows[1::5],
             "train": [r for r in rows if r % 5 not in (0, 1)]}
    split_file = tmp_path / "given_split.json"
    split_file.write_text(json.dumps(split))
    run_baseline(compose_baseline(small_reviews_csv, tmp_path / "out", f"data.split_file={split_file}"))
    assert sorted(pd.read_csv(tmp_path / "out" / "test_predictions.csv")["row_id"]) == split["test"]


def test_training_run_fits_the_baseline_on_its_own_split(compose_train_cfg, tmp_path: Path) -> None:
    cfg = compose_train_cfg("trainer.max_epochs=1", "baseline=true")
    metrics = run_training(cfg)
    run_dir = Path(cfg.paths.output_dir)
    baseline_metrics = json.loads((run_dir / "baseline" / "metrics.json").read_text())["metrics"]

    assert json.loads((run_dir / "baseline" / "split.json").read_text()) == json.loads((run_dir / "split.json").read_text())
    assert metrics["baseline/val_f1_macro"] == pytest.approx(baseline_metrics["val/f1_macro"])
    assert metrics["baseline/test_f1_macro"] == pytest.approx(baseline_metrics["test/f1_macro"])
    assert "test/f1_macro" in metrics


def test_training_run_without_baseline(compose_train_cfg) -> None:
    metrics = run_training(compose_train_cfg("trainer.max_epochs=1", "baseline=false", "test=false"))
    assert not any(name.startswith("baseline/") for name in metrics)


def test_a_baseline_sweep_ranks_its_runs_as_finished(small_reviews_csv: Path, tmp_path: Path) -> None:
    """metrics.json of a baseline run is the run record training writes, so the sweep summary reads it as ok."""
    from review_cls.sweeps.sweep_summary import SUMMARY_CSV

    command = [sys.executable, "-m", "review_cls.baseline", "-m", f"data.path={small_reviews_csv}", "seed=1,2",
               f"paths.log_dir={tmp_path}"]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep_dir,) = (tmp_path / "multiruns").iterdir()
    summary = pd.read_csv(sweep_dir / SUMMARY_CSV)
    assert summary["status"].tolist() == ["ok", "ok"]
    assert summary["test_f1_macro"].between(0, 1).all() and summary["rare_class_support"].notna().all()
