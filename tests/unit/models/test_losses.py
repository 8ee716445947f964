"""The losses: focal loss (cross-entropy at gamma 0, the definition otherwise, fp32 under autocast, alpha weights),
the logit-adjusted loss (model.logit_adjustment), and layer-wise lr decay (model.layer_decay): config keys that reach
the loss and the optimizer."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from review_cls.errors import ConfigError
from review_cls.models.losses import (
    FocalLoss,
    LogitAdjusted,
    effective_number_alpha,
    inverse_frequency_alpha,
    log_prior_offsets,
    resolve_alpha,
)
from tests.unit.models.test_module import built_model


def test_offsets_are_tau_times_the_log_prior() -> None:
    assert log_prior_offsets([0, 0, 0, 1], ["a", "b"], 0.0) is None
    assert log_prior_offsets([0, 0, 0, 1], ["a", "b"], 2.0) == pytest.approx([2 * math.log(0.75), 2 * math.log(0.25)])
    with pytest.raises(ConfigError, match=r"every class .*\['b'\] have none.*data.resampling"):
        log_prior_offsets([0, 0], ["a", "b"], 1.0)


def test_adjusted_loss_asks_a_larger_margin_for_the_frequent_class() -> None:
    loss = LogitAdjusted(FocalLoss(gamma=0.0), log_prior_offsets([0] * 9 + [1], ["a", "b"], 1.0))
    logits = torch.tensor([[1.0, -1.0]])
    assert loss(logits, torch.tensor([0])) == pytest.approx(F.cross_entropy(logits + torch.log(torch.tensor([0.9, 0.1])),
                                                                           torch.tensor([0])).item())
    even = torch.zeros(1, 2)  # an undecided review costs more when it is rare than when it is frequent
    assert loss(even, torch.tensor([1])) > F.cross_entropy(even, torch.tensor([1])) > loss(even, torch.tensor([0]))


def test_logit_adjustment_reaches_the_training_loss(compose_train_cfg) -> None:
    model, fit = built_model(compose_train_cfg, "model.logit_adjustment=1.0", steps=1)
    assert isinstance(model.loss_fn, LogitAdjusted)
    assert model.loss_fn.offsets.shape == (len(model.labels),)
    assert bool((model.loss_fn.offsets < 0).all())  # log of shares below 1
    fit()


def test_layer_decay_gives_lower_layers_smaller_steps(compose_train_cfg) -> None:
    model, fit = built_model(compose_train_cfg, "model.layer_decay=0.5", steps=1)
    fit()
    lr = model.optimizer_settings.lr
    lr_of = {id(p): group["initial_lr"] for group in model.trainer.optimizers[0].param_groups for p in group["params"]}
    named = dict(model.named_parameters())
    assert lr_of[id(named["model.classifier.weight"])] == pytest.approx(lr)
    assert lr_of[id(named["model.bert.encoder.layer.1.output.dense.weight"])] == pytest.approx(lr * 0.5)
    assert lr_of[id(named["model.bert.encoder.layer.0.output.dense.weight"])] == pytest.approx(lr * 0.25)
    assert lr_of[id(named["model.bert.embeddings.word_embeddings.weight"])] == pytest.approx(lr * 0.125)


@pytest.fixture
def logits_and_target():
    torch.manual_seed(0)
    return torch.randn(64, 5) * 3, torch.randint(0, 5, (64,))


def test_gamma_zero_without_alpha_is_cross_entropy(logits_and_target):
    logits, target = logits_and_target
    assert torch.allclose(FocalLoss(gamma=0.0)(logits, target), F.cross_entropy(logits, target), atol=1e-6)


def test_gamma_zero_with_alpha_is_weighted_cross_entropy(logits_and_target):
    logits, target = logits_and_target
    alpha = [0.5, 1.0, 2.0, 3.0, 0.25]
    expected = F.cross_entropy(logits, target, weight=torch.tensor(alpha))
    assert torch.allclose(FocalLoss(gamma=0.0, alpha=alpha)(logits, target), expected, atol=1e-6)


def test_focal_matches_definition_and_downweights_easy_examples(logits_and_target):
    logits, target = logits_and_target
    p = F.softmax(logits, -1).gather(1, target[:, None]).squeeze(1)
    expected = (-(1 - p) ** 2 * p.log()).mean()
    assert torch.allclose(FocalLoss(gamma=2.0)(logits, target), expected, atol=1e-6)
    easy = torch.tensor([[8.0, 0.0, 0.0]])
    assert FocalLoss(gamma=2.0)(easy, torch.tensor([0])) < 1e-3 * F.cross_entropy(easy, torch.tensor([0]))


def test_focal_loss_is_computed_in_fp32_for_half_logits(logits_and_target):
    logits, target = logits_and_target
    loss = FocalLoss(gamma=2.0)(logits.to(torch.bfloat16), target)
    assert loss.dtype == torch.float32


def test_gradient_flows(logits_and_target):
    logits, target = logits_and_target
    logits = logits.clone().requires_grad_(True)
    FocalLoss(gamma=2.0, alpha=[1, 1, 1, 1, 1])(logits, target).backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()


def test_auto_alpha_is_inverse_frequency_normalised():
    alpha = inverse_frequency_alpha([0] * 80 + [1] * 20, ["a", "b"])
    assert alpha[1] / alpha[0] == pytest.approx(4.0)
    assert sum(alpha) / 2 == pytest.approx(1.0)


def test_effective_number_alpha_is_class_balanced():
    """Cui et al. 2019: weight ~ (1 - beta) / (1 - beta^n); near-equal weights at mild imbalance once classes are large
    for beta, inverse frequency as beta -> 1, and no weighting at beta 0."""
    labels = [0] * 800 + [1] * 50
    beta = 0.999
    alpha = effective_number_alpha(labels, ["a", "b"], beta)
    expected_ratio = (1 - beta**800) / (1 - beta**50)
    assert alpha[1] / alpha[0] == pytest.approx(expected_ratio)
    assert 1 < alpha[1] / alpha[0] < 16  # milder than inverse frequency's 800 / 50
    assert sum(alpha) / 2 == pytest.approx(1.0)
    assert effective_number_alpha(labels, ["a", "b"], 0.0) == pytest.approx([1.0, 1.0])
    assert resolve_alpha("effective:0.999", labels, ["a", "b"]) == pytest.approx(alpha)


@pytest.mark.parametrize(("counts", "weighted"), [((240, 100, 100), False), ((399, 100), False), ((400, 100), True),
                                                  ((1500, 300, 50), True)])
def test_adaptive_alpha_weighs_classes_only_from_a_4_to_1_imbalance(counts, weighted, caplog):
    labels = [index for index, count in enumerate(counts) for _ in range(count)]
    names = [f"c{index}" for index in range(len(counts))]
    with caplog.at_level("INFO", logger="review_cls.models.losses"):
        alpha = resolve_alpha("adaptive", labels, names)
    if weighted:
        assert alpha == pytest.approx(effective_number_alpha(labels, names, 0.999))
        assert "class-balanced weights effective:0.999" in caplog.text
    else:
        assert alpha is None and "plain cross-entropy" in caplog.text


def test_alpha_validation():
    with pytest.raises(ConfigError, match="3 classes"):
        resolve_alpha([1.0, 2.0], [0, 1, 2], ["a", "b", "c"])
    with pytest.raises(ConfigError, match="'auto', 'adaptive'"):
        resolve_alpha("balanced", [0, 1], ["a", "b"])
    with pytest.raises(ConfigError, match=r"beta in \[0, 1\)"):
        resolve_alpha("effective:1.5", [0, 1], ["a", "b"])
    with pytest.raises(ConfigError, match=r"effective:0.99 needs reviews of every class .*\['pricing'\] have none"):
        resolve_alpha("effective:0.99", [0, 0], ["bug", "pricing"])
    assert resolve_alpha(None, [0, 1], ["a", "b"]) is None
