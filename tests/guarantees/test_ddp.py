"""DDP on CPU (gloo, 2 processes): metrics are gathered over ranks and every test review counts exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch.distributed as dist

from tests.helpers import REPO_ROOT

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs torch gloo")

# 180 reviews, 15% test -> 27 test reviews: odd, so a padding DistributedSampler would count one twice on 2 ranks
TEST_SIZE, TEST_REVIEWS = 0.15, 27


def train_cli(tiny_bert_dir: Path, data: Path, run_dir: Path, *extra: str) -> dict:
    """One ``python -m review_cls.train`` run; returns the ``metrics.json`` it leaves in ``run_dir``."""
    command = [
        sys.executable, "-m", "review_cls.train", f"model.pretrained={tiny_bert_dir}", "data=file", f"data.path={data}",
        "data.text_column=review", "data.label_column=category", f"paths.log_dir={run_dir.parent}",
        f"hydra.run.dir={run_dir}", "trainer.accelerator=cpu", "callbacks.progress_bar=null", "model.lr=3e-3",
        "data.batch_size=16", f"data.test_size={TEST_SIZE}", "data.val_size=0.15", "data.eval_batch_size=4",
        "trainer.max_epochs=2", *extra,
    ]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return {"log": result.stdout + result.stderr, **json.loads((run_dir / "metrics.json").read_text())}


def test_two_process_test_metrics_equal_the_single_process_ones(tiny_bert_dir, small_reviews_csv, tmp_path):
    """Train with DDP on 2 CPU processes (val shards of 14 and 13 reviews), test the best checkpoint there; then test
    the same checkpoint in one process: every test metric must agree (weights are fixed, only the sharding differs)."""
    ddp = train_cli(tiny_bert_dir, small_reviews_csv, tmp_path / "ddp", "trainer=ddp", "trainer.devices=2")
    assert "Starting with 2 processes" in ddp["log"] and "distributed_backend=gloo" in ddp["log"]
    best = next((tmp_path / "ddp" / "checkpoints").glob("best-*.ckpt"))

    single = train_cli(tiny_bert_dir, small_reviews_csv, tmp_path / "single", "train=false", f"ckpt_path={best}")

    assert sum(ddp["test_support"].values()) == TEST_REVIEWS == sum(single["test_support"].values())
    test_metrics = sorted(name for name in single["metrics"] if name.startswith("test/"))
    assert "test/f1_macro" in test_metrics and len(test_metrics) > 10
    for name in test_metrics:
        assert ddp["metrics"][name] == pytest.approx(single["metrics"][name], abs=1e-6), name
    # accuracy is a count over 27 reviews: with a padded 28th it would be k/28 instead
    correct = ddp["metrics"]["test/acc"] * TEST_REVIEWS
    assert correct == pytest.approx(round(correct), abs=1e-4) and round(correct) > 0


def test_a_two_process_multilabel_run_chooses_thresholds_on_the_whole_validation_split(tiny_bert_dir, tmp_path):
    """Rank 0 chooses the per-label thresholds on every validation review (not its shard) and every rank tests the
    tuned checkpoint: the stored thresholds are those one process chooses on the same weights and split."""
    import torch

    from review_cls.inference.checkpoints import load_classifier
    from review_cls.models.threshold_choice import choose_thresholds
    from review_cls.training.calibration import split_logits
    from tests.helpers import data_module, multilabel_frame

    data = tmp_path / "multilabel.csv"
    multilabel_frame().to_csv(data, index=False)
    run_dir = tmp_path / "ddp"
    ddp = train_cli(tiny_bert_dir, data, run_dir, "trainer=ddp", "trainer.devices=2", "data.label_separator='|'")
    assert "Starting with 2 processes" in ddp["log"]
    best = next((run_dir / "checkpoints").glob("best-*.ckpt"))
    stored = torch.load(best, map_location="cpu", weights_only=True)["hyper_parameters"]["thresholds"]
    chosen = json.loads((run_dir / "thresholds.json").read_text())["thresholds"]
    model, _ = load_classifier(str(best))
    assert stored == [chosen[label] for label in model.labels]
    assert "thresholds/val_f1_macro" in ddp["metrics"]

    datamodule = data_module(path=str(data), text_column="review", label_column="category", label_separator="|",
                             split_file=str(run_dir / "split.json"), tokenizer=str(tiny_bert_dir), test_size=TEST_SIZE,
                             val_size=0.15)
    datamodule.setup("fit")
    logits, targets = split_logits(model, datamodule.unsharded_loader("val"))
    assert len(targets) == len(datamodule.splits["val"].texts)
    again = choose_thresholds(model.task.probabilities(logits).numpy(), targets.numpy())
    assert [float(value) for value in again] == pytest.approx(stored)
