"""bench/gpu_suite.sh as a CPU dry run (tiny files laid out like ../shared/data, the tiny random BERT, one epoch), so
the GPU command does not rot between lent GPUs; and its FLOP arithmetic."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from bench.gpu_suite import TIMING_JSON, matmul_parameters, throughput_rows
from tests.helpers import DEMO_CSV, REPO_ROOT, ZH_DEMO

SCRIPT = REPO_ROOT / "bench" / "gpu_suite.sh"


def tiny_data_root(root: Path) -> Path:
    """The three files the suite reads, each a few demo reviews per category, in ../shared/data's layout."""
    english, chinese = pd.read_csv(DEMO_CSV), pd.read_csv(ZH_DEMO)
    google_play = english[english["category"].isin(english["category"].unique()[:4])].groupby("category").head(20)
    (root / "google_play_reviews").mkdir(parents=True)
    google_play.rename(columns={"category": "label"})[["review", "label"]].to_excel(
        root / "google_play_reviews" / "dataset_unbalanced_4000.xlsx", index=False)
    (root / "clap_reviews").mkdir()
    english.groupby("category").head(15)[["review", "category"]].to_csv(
        root / "clap_reviews" / "clap_rq1_reviews.csv", index=False)
    (root / "online_shopping_10_cats").mkdir()
    shopping = chinese.groupby("category").head(15).rename(columns={"category": "cat"}).assign(label=1)
    shopping[["cat", "label", "review"]].to_csv(root / "online_shopping_10_cats" / "online_shopping_10_cats.csv",
                                                index=False)
    return root


def gpu_suite(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *arguments], cwd=REPO_ROOT, capture_output=True, text=True,
                          env=os.environ | {"OMP_NUM_THREADS": "1"}, timeout=900)


def test_the_cpu_dry_run_prints_the_blend_and_throughput_rows_of_its_three_runs(tiny_bert_dir, tmp_path):
    out = tmp_path / "runs"
    done = gpu_suite("--data-root", str(tiny_data_root(tmp_path / "data")), "--trainer", "cpu", "--out", str(out),
                     "--english-model", str(tiny_bert_dir), "--chinese-model", str(tiny_bert_dir),
                     "--", "trainer.max_epochs=1", "trainer.min_epochs=1")
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    for recipe, name in (("english", "google_play"), ("english", "clap"), ("chinese", "shopping_zh")):
        assert any(line.startswith(f"| {recipe} | {name} | 42 |") for line in lines), done.stdout
        assert any(line.startswith(f"| {recipe} | {name} | cpu | 32-true | 1 |") for line in lines), done.stdout
        [timing] = (out / recipe / name / "42").rglob(TIMING_JSON)
        record = json.loads(timing.read_text())
        trained = len(json.loads((timing.parent / "split.json").read_text())["train"])
        assert record["reviews"] == trained * record["epochs"] and record["epochs"] == 1
        assert record["tokens"] > 2 * record["reviews"] and record["train_seconds"] > 0
    assert "best on its worst set" in done.stdout


@pytest.mark.parametrize("arguments, message", [
    (["--trainer", "tpu"], "--trainer is gpu or cpu"),
    (["--data-root", "/nonexistent"], "'/nonexistent/google_play_reviews/dataset_unbalanced_4000.xlsx' is missing"),
    (["--epochs", "1"], "unknown argument '--epochs'"),
])
def test_bad_arguments_stop_before_any_run(arguments, message):
    done = gpu_suite(*arguments)
    assert done.returncode == 2 and message in done.stderr


def test_model_flops_come_from_the_config_and_utilisation_from_the_training_time(tmp_path):
    minilm = SimpleNamespace(num_hidden_layers=6, hidden_size=384, intermediate_size=1536)
    assert matmul_parameters(minilm) == 6 * (4 * 384 * 384 + 2 * 384 * 1536) == 10_616_832
    run = tmp_path / "english" / "google_play" / "42" / "default" / "runs" / "t"
    run.mkdir(parents=True)
    (run / TIMING_JSON).write_text(json.dumps({
        "device": "NVIDIA H100", "precision": "bf16-mixed", "epochs": 12, "reviews": 40_000, "tokens": 10**9,
        "train_seconds": 100.0, "validation_seconds": 5.0, "matmul_parameters": 10_000_000}))
    row = throughput_rows([run], peak_tflops=1000).splitlines()[-1]
    # 6 FLOPs per weight per token: 6e16 in 100 s = 600 TFLOP/s of 1,000
    assert row.startswith("| english | google_play | NVIDIA H100 | bf16-mixed | 12 | 40000 | 100.0 | 400 | ")
    assert row.endswith("| 10.0M | 60.00% |")
