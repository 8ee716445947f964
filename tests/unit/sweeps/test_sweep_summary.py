"""The sweep summary ranks runs from their metrics.json records, failed ones included."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from review_cls.sweeps.sweep_summary import SUMMARY_CSV, SUMMARY_MD, SUMMARY_PNG, write_sweep_summary
from tests.helpers import PNG_MAGIC


def fake_job(sweep_dir: Path, name: str, overrides: list[str], record: dict | None) -> None:
    """A job folder as a multirun leaves it: ``.hydra/overrides.yaml`` always, ``metrics.json`` if the job ended."""
    (sweep_dir / name / ".hydra").mkdir(parents=True)
    (sweep_dir / name / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    if record is not None:
        (sweep_dir / name / "metrics.json").write_text(json.dumps({"overrides": overrides, **record}))


def ok_record(val_f1: float, test_f1: float, rare_f1: float) -> dict:
    return {
        "status": "ok", "error": None, "optimized_metric": "val/f1_macro",
        "metrics": {"val/f1_macro": val_f1, "test/f1_macro": test_f1, "test/f1/rare": rare_f1, "test/f1/common": 0.9},
        "test_support": {"common": 40, "rare": 3},
    }


def test_summary_ranks_runs_and_keeps_failed_ones(tmp_path):
    fake_job(tmp_path, "0_default", ["data.path=x.csv", "model.dropout=0.1"], ok_record(0.61, 0.58, 0.25))
    fake_job(tmp_path, "1_default", ["data.path=x.csv", "model.dropout=0.3"], ok_record(0.74, 0.70, 0.5))
    fake_job(tmp_path, "2_default", ["data.path=x.csv", "model.dropout=0.5"],
             {"status": "failed", "error": "OutOfMemoryError: CUDA out of memory", "metrics": {}, "test_support": {}})
    fake_job(tmp_path, "10_default", ["data.path=x.csv", "model.dropout=0.7"], None)  # killed: no metrics.json

    frame = write_sweep_summary(tmp_path)

    table = pd.read_csv(tmp_path / SUMMARY_CSV)
    assert table["run"].tolist() == ["1_default", "0_default", "2_default", "10_default"]
    assert table["status"].tolist() == ["ok", "ok", "failed", "failed"]
    assert table["best"].tolist() == [True, False, False, False]
    assert table["val_f1_macro"][:2].tolist() == [0.74, 0.61]
    assert table["test_f1_macro"][:2].tolist() == [0.70, 0.58]
    assert table["rare_class"][:2].tolist() == ["rare", "rare"]  # the class with the smallest test support
    assert table["rare_class_test_f1"][:2].tolist() == [0.5, 0.25]
    assert table["swept"].tolist() == [f"model.dropout={v}" for v in ("0.3", "0.1", "0.5", "0.7")]  # not data.path
    assert "OutOfMemoryError" in table["error"][2] and "no metrics.json" in table["error"][3]
    markdown = (tmp_path / SUMMARY_MD).read_text()
    assert "| **1 (best)** | 1_default | ok | 0.7400 | 0.7000 | rare (3) | 0.5000 | `model.dropout=0.3` |" in markdown
    assert "2 failed" in markdown and "CUDA out of memory" in markdown
    assert (tmp_path / SUMMARY_PNG).read_bytes().startswith(PNG_MAGIC)
    assert len(frame) == 4


def test_summary_ranks_the_other_way_when_the_search_minimises(tmp_path):
    fake_job(tmp_path, "0_default", ["model.lr=1"], ok_record(0.2, 0.2, 0.1))
    fake_job(tmp_path, "1_default", ["model.lr=2"], ok_record(0.4, 0.4, 0.1))
    assert write_sweep_summary(tmp_path, maximize=False)["run"].tolist() == ["0_default", "1_default"]


def test_a_multilabel_sweep_lists_micro_samples_hamming_and_the_score_at_0_5(tmp_path):
    record = ok_record(0.7, 0.68, 0.4)
    record["metrics"] |= {"test/f1_micro": 0.81, "test/f1_samples": 0.83, "test/hamming": 0.09,
                          "test/f1_macro_at_0.5": 0.55}
    fake_job(tmp_path, "0_default", ["model.alpha=auto"], record)
    fake_job(tmp_path, "1_default", ["model.alpha=null"], ok_record(0.6, 0.6, 0.3))
    write_sweep_summary(tmp_path)
    table = pd.read_csv(tmp_path / SUMMARY_CSV)
    assert table.loc[0, ["test_f1_micro", "test_f1_samples", "test_hamming", "test_f1_macro_at_0.5"]].tolist() == [
        0.81, 0.83, 0.09, 0.55]
    assert table.loc[1, "test_f1_micro"] != table.loc[1, "test_f1_micro"]  # NaN: a single-label run has none
    markdown = (tmp_path / SUMMARY_MD).read_text()
    assert "| test f1 micro | test f1 samples | test hamming | test f1 macro at 0.5 |" in markdown
    assert "| 0.4000 | 0.8100 | 0.8300 | 0.0900 | 0.5500 | `model.alpha=auto` |" in markdown


def test_a_single_label_sweep_has_no_multilabel_columns_in_its_table(tmp_path):
    fake_job(tmp_path, "0_default", ["model.lr=1"], ok_record(0.2, 0.2, 0.1))
    write_sweep_summary(tmp_path)
    assert "hamming" not in (tmp_path / SUMMARY_MD).read_text()
    assert "blend" not in (tmp_path / SUMMARY_MD).read_text()  # runs without a blend: no column


def test_the_blend_predict_ships_is_listed_beside_the_models_test_score(tmp_path):
    blended = ok_record(0.74, 0.70, 0.5)
    blended["metrics"] |= {"blend/test_f1_macro": 0.76, "blend/weight": 0.45}
    fake_job(tmp_path, "0_default", ["model.lr=1"], blended)
    fake_job(tmp_path, "1_default", ["model.lr=2", "blend=null"], ok_record(0.6, 0.6, 0.3))
    write_sweep_summary(tmp_path)
    table = pd.read_csv(tmp_path / SUMMARY_CSV)
    assert table.loc[0, ["test_f1_macro", "blend_test_f1_macro", "blend_weight"]].tolist() == [0.70, 0.76, 0.45]
    assert table.loc[1, "blend_test_f1_macro"] != table.loc[1, "blend_test_f1_macro"]  # NaN: blend=null
    markdown = (tmp_path / SUMMARY_MD).read_text()
    assert "| test macro-F1 | blend test macro-F1 (model share) |" in markdown
    assert "| 0.7400 | 0.7000 | 0.7600 (0.45) | rare (3) |" in markdown
    assert "| 0.6000 | 0.6000 |  | rare (3) |" in markdown
