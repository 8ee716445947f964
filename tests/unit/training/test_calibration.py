"""Temperature scaling and post-hoc logit adjustment: fitted on validation, folded into the best checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from review_cls.jobs.train import run_training
from review_cls.models.losses import class_log_prior
from review_cls.training.calibration import (
    choose_logit_adjustment,
    expected_calibration_error,
    fit_temperature,
    fold_into_head,
)


def overconfident(n: int = 4000, classes: int = 4, scale: float = 3.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Labels drawn from softmax(z) but logits reported as scale * z: the fitted temperature should be ~scale."""
    generator = torch.Generator().manual_seed(0)
    true_logits = torch.randn(n, classes, generator=generator) * 1.5
    labels = torch.multinomial(true_logits.softmax(dim=-1), 1, generator=generator).squeeze(1)
    return true_logits * scale, labels


def test_temperature_undoes_overconfidence_and_lowers_ece() -> None:
    logits, labels = overconfident()
    temperature = fit_temperature(logits, labels)
    assert temperature == pytest.approx(3.0, rel=0.1)
    assert expected_calibration_error(logits, labels, temperature) < 0.5 * expected_calibration_error(logits, labels)


def test_logit_adjustment_is_chosen_only_when_it_helps() -> None:
    labels = torch.tensor([0] * 80 + [1] * 20)
    prior = torch.as_tensor(class_log_prior(labels.tolist(), ["bug", "pricing"], "calibration.logit_adjustment"))
    # a model biased to the majority: rare-class reviews score only a little below the decision line
    logits = torch.zeros(100, 2)
    logits[:80, 0] = 2.0
    logits[80:, 0] = 0.5
    assert choose_logit_adjustment(logits, labels, prior) > 0
    perfect = torch.nn.functional.one_hot(labels, 2).float() * 5
    assert choose_logit_adjustment(perfect, labels, prior) == 0.0


def test_folding_into_the_head_is_exact() -> None:
    layer = torch.nn.Linear(8, 3)
    inputs = torch.randn(5, 8)
    offsets = torch.tensor([0.5, -1.0, 0.0])
    expected = (layer(inputs) - offsets) / 2.5
    fold_into_head(layer, 2.5, offsets)
    assert torch.allclose(layer(inputs), expected, atol=1e-6)


def test_training_folds_the_calibration_into_the_best_checkpoint(compose_train_cfg, capsys) -> None:
    cfg = compose_train_cfg("trainer.max_epochs=1", "calibration.logit_adjustment=true")
    metrics = run_training(cfg)
    run_dir = Path(cfg.paths.output_dir)
    best = torch.load(next((run_dir / "checkpoints").glob("best*.ckpt")), weights_only=True)
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)  # same epoch, not calibrated
    temperature = best["calibration"]["temperature"]
    assert temperature == metrics["calibration/temperature"] > 0
    weight = "model.classifier.weight"
    assert torch.allclose(best["state_dict"][weight], last["state_dict"][weight] / temperature, atol=1e-6)
    assert (run_dir / "calibration.json").is_file() and (run_dir / "reliability_diagram.png").stat().st_size > 0
    assert metrics["test/f1_macro"] == pytest.approx(metrics["calibration/test_f1_macro_after"], abs=1e-6)
    summary = capsys.readouterr().out
    assert f"ECE {metrics['calibration/test_ece_before']:.4f} -> {metrics['calibration/test_ece_after']:.4f}" in summary
    assert "reliability_diagram.png" in summary
    # the printed val score is the tested (adjusted) model's, like the test one
    val = metrics["calibration/val_f1_macro_after" if metrics["calibration/logit_adjustment"] else "calibration/val_f1_macro_before"]
    assert f"val macro-F1 {val:.4f}" in " ".join(summary.split())
