"""Mixed precision trains with gradient clipping on: bf16 on CPU, tiny BERT only (slow there).

Lightning refuses gradient clipping with an optimizer that unscales gradients itself (fused AdamW) under mixed
precision. A CPU turns 16-mixed into bf16-mixed, so 16-mixed is checked on the optimizer choice itself.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from review_cls.jobs.train import run_training
from tests.helpers import review_classifier


def test_bf16_mixed_trains_one_epoch_with_clipping(compose_train_cfg):
    cfg = compose_train_cfg("trainer.precision=bf16-mixed", "trainer.max_epochs=1", "trainer.gradient_clip_val=1.0")
    metrics = run_training(cfg)
    assert math.isfinite(metrics["train/loss_epoch"]), metrics
    assert "test/f1_macro" in metrics, sorted(metrics)


@pytest.mark.parametrize(("precision", "fused"), [("16-mixed", False), ("bf16-mixed", False), ("32-true", True)])
def test_adamw_is_fused_only_without_mixed_precision(tiny_bert_dir, precision, fused):
    model = review_classifier(["a", "b"], [0, 1], 32, str(tiny_bert_dir), fused_optimizer=True)
    model._trainer = SimpleNamespace(precision=precision, estimated_stepping_batches=10)
    optimizer = model.configure_optimizers()["optimizer"]
    assert bool(optimizer.defaults["fused"]) is fused
