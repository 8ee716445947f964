"""Logit-adjusted loss (model.logit_adjustment) and layer-wise lr decay (model.layer_decay): config keys that reach
the loss and the optimizer."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from review_cls.errors import ConfigError
from review_cls.models.focal_loss import FocalLoss
from review_cls.models.losses import LogitAdjusted, log_prior_offsets
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
    lr = model.hparams.lr
    lr_of = {id(p): group["initial_lr"] for group in model.trainer.optimizers[0].param_groups for p in group["params"]}
    named = dict(model.named_parameters())
    assert lr_of[id(named["model.classifier.weight"])] == pytest.approx(lr)
    assert lr_of[id(named["model.bert.encoder.layer.1.output.dense.weight"])] == pytest.approx(lr * 0.5)
    assert lr_of[id(named["model.bert.encoder.layer.0.output.dense.weight"])] == pytest.approx(lr * 0.25)
    assert lr_of[id(named["model.bert.embeddings.word_embeddings.weight"])] == pytest.approx(lr * 0.125)

