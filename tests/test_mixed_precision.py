"""Mixed precision trains with gradient clipping on (issue 11, item 1): bf16 on CPU, tiny BERT only (slow there)."""

from __future__ import annotations

import math

import pytest

from review_cls.training import run_training


@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
def test_mixed_precision_trains_one_epoch_with_clipping(compose_train_cfg, precision):
    cfg = compose_train_cfg(f"trainer.precision={precision}", "trainer.max_epochs=1", "trainer.gradient_clip_val=1.0")
    metrics = run_training(cfg)
    assert math.isfinite(metrics["train/loss_epoch"]), metrics
    assert "test/f1_macro" in metrics, sorted(metrics)
