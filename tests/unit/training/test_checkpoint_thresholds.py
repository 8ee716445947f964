"""After a multi-label run: the thresholds chosen on validation go into the best checkpoint (buffer and
hyperparameter) and thresholds.json, with macro-F1 at 0.5 and at the chosen thresholds."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from review_cls.models.threshold_choice import choose_thresholds, per_label_f1
from review_cls.training.checkpoint_thresholds import fit_best_thresholds
from tests.helpers import review_classifier

LABELS = ["bug", "delivery", "price"]


@pytest.fixture
def tuned(tiny_bert_dir, tmp_path):
    """A tiny multi-label model, its checkpoint, a validation batch, and the result of fit_best_thresholds."""
    torch.manual_seed(0)
    targets = [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]] * 3
    model = review_classifier(LABELS, targets, 16, str(tiny_bert_dir), multilabel=True)
    checkpoint = {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams), "epoch": 3}
    ckpt_path = tmp_path / "best.ckpt"
    torch.save(checkpoint, ckpt_path)
    batch = {"input_ids": torch.randint(5, 60, (12, 10)), "attention_mask": torch.ones(12, 10, dtype=torch.long),
             "labels": torch.tensor(targets)}
    datamodule = SimpleNamespace(unsharded_loader=lambda name: {"val": [batch]}[name])
    model.eval()
    with torch.no_grad():
        probabilities = model(batch["input_ids"], batch["attention_mask"]).sigmoid().numpy()
    metrics = fit_best_thresholds(model, datamodule, str(ckpt_path), str(tmp_path))
    return SimpleNamespace(metrics=metrics, ckpt_path=ckpt_path, out=tmp_path, probabilities=probabilities,
                           targets=np.array(targets), model=model)


def test_the_checkpoint_is_rewritten_with_the_thresholds_chosen_on_validation(tuned):
    expected = choose_thresholds(tuned.probabilities, tuned.targets)
    assert (expected != 0.5).any()  # some label moved off 0.5, so the rewrite shows
    rewritten = torch.load(tuned.ckpt_path, weights_only=True)
    assert rewritten["hyper_parameters"]["thresholds"] == pytest.approx(expected.tolist())
    assert rewritten["state_dict"]["thresholds"].tolist() == pytest.approx(expected.tolist())
    assert rewritten["epoch"] == 3  # the rest of the checkpoint is kept
    assert tuned.model.thresholds.tolist() == pytest.approx(expected.tolist())


def test_thresholds_json_names_each_label_and_the_metrics_are_returned_prefixed(tuned):
    record = json.loads((tuned.out / "thresholds.json").read_text())
    assert list(record["thresholds"]) == LABELS
    at_half = per_label_f1(tuned.probabilities, tuned.targets, [0.5]).mean()
    assert record["val_f1_macro_at_0.5"] == pytest.approx(at_half)
    assert record["val_f1_macro"] >= record["val_f1_macro_at_0.5"]
    assert tuned.metrics == {"thresholds/val_f1_macro_at_0.5": record["val_f1_macro_at_0.5"],
                             "thresholds/val_f1_macro": record["val_f1_macro"]}
