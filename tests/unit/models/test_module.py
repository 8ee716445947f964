"""The LightningModule's optimizer: weight decay groups, warmup on the real step count, fused AdamW, frozen
embeddings; a checkpoint's flat hyperparameters mapped to today's groups."""

from __future__ import annotations

import pytest
import torch

from review_cls.models.backbone import backbone_config
from review_cls.models.module import ReviewClassifier, upgraded_hyperparameters
from review_cls.training.builders import build_datamodule, build_model, build_trainer
from tests.helpers import review_classifier


def built_model(compose_train_cfg, lever: str, steps: int):
    """The composed tiny config with ``lever`` set, its model, and a function that trains it for ``steps`` steps."""
    cfg = compose_train_cfg(lever, f"+trainer.max_steps={steps}", "+trainer.limit_val_batches=0")
    datamodule = build_datamodule(cfg)
    model: ReviewClassifier = build_model(cfg, datamodule)
    return model, lambda: build_trainer(cfg, [], []).fit(model, datamodule=datamodule)


@pytest.mark.parametrize("freeze", [True, False])
def test_freeze_embeddings_keeps_only_the_word_embeddings_fixed(compose_train_cfg, freeze: bool) -> None:
    model, fit = built_model(compose_train_cfg, f"model.freeze_embeddings={str(freeze).lower()}", steps=3)
    embeddings = model.model.get_input_embeddings().weight
    before = embeddings.detach().clone()
    first_layer = next(p for n, p in model.named_parameters() if "encoder.layer.0" in n and n.endswith("weight"))
    first_layer_before = first_layer.detach().clone()

    fit()

    assert embeddings.requires_grad is not freeze
    assert torch.equal(embeddings.detach(), before) is freeze
    assert not torch.equal(first_layer.detach(), first_layer_before)
    optimized = {id(p) for group in model.trainer.optimizers[0].param_groups for p in group["params"]}
    assert (id(embeddings) in optimized) is not freeze


@pytest.mark.parametrize("fused", [True, False])
def test_fused_optimizer_is_a_config_key(compose_train_cfg, fused: bool) -> None:
    model, fit = built_model(compose_train_cfg, f"model.fused_optimizer={str(fused).lower()}", steps=2)
    fit()
    assert model.trainer.optimizers[0].defaults["fused"] is fused


def test_weight_decay_skips_biases_and_layernorm(tiny_bert_dir):
    module = review_classifier(["a", "b"], [0, 1], 64, str(tiny_bert_dir), weight_decay=0.1)

    class FakeTrainer:
        estimated_stepping_batches = 100
        precision = "32-true"

    module.trainer = FakeTrainer()  # type: ignore[assignment]
    optimizer = module.configure_optimizers()["optimizer"]
    decay, no_decay = optimizer.param_groups
    names = {id(p): n for n, p in module.named_parameters()}
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(not names[id(p)].endswith("bias") and "LayerNorm" not in names[id(p)] for p in decay["params"])
    assert any("LayerNorm" in names[id(p)] for p in no_decay["params"])


def test_linear_warmup_uses_real_step_count(tiny_bert_dir):
    module = review_classifier(["a", "b"], [0, 1], 64, str(tiny_bert_dir), lr=1e-3, warmup_ratio=0.1)

    class FakeTrainer:
        estimated_stepping_batches = 200
        precision = "32-true"

    module.trainer = FakeTrainer()  # type: ignore[assignment]
    scheduler = module.configure_optimizers()["lr_scheduler"]["scheduler"]
    lrs = []
    for _ in range(200):
        lrs.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
    assert lrs[0] == 0.0 and max(lrs) == pytest.approx(1e-3) and lrs.index(max(lrs)) == 20
    assert lrs[-1] < 1e-4


def test_flat_hyperparameters_are_mapped_to_the_optimizer_and_loss_groups(tiny_bert_dir):
    """What checkpoints written before the groups hold; settings they lack were off (or fused) when they trained."""
    config = backbone_config(str(tiny_bert_dir), 2, {0: "a", 1: "b"}, None)
    flat = {"backbone_config": config, "labels": ["a", "b"],
            "pretrained": "tiny", "init_from_pretrained": True, "max_length": 64, "lr": 1e-3, "weight_decay": 0.01,
            "warmup_ratio": 0.1, "betas": [0.9, 0.999], "gamma": 2.0, "alpha": [0.5, 1.5], "multilabel": False}
    upgraded = upgraded_hyperparameters(flat)
    assert upgraded == {
        "backbone_config": flat["backbone_config"], "labels": ["a", "b"], "pretrained": "tiny", "max_length": 64,
        "optimizer": {"lr": 1e-3, "weight_decay": 0.01, "warmup_ratio": 0.1, "betas": [0.9, 0.999],
                      "fused_optimizer": True, "layer_decay": 1.0, "embedding_lr": None, "frozen_body_epochs": 0},
        "loss": {"gamma": 2.0, "alpha": [0.5, 1.5]},
    }
    assert upgraded_hyperparameters(upgraded) == upgraded  # today's layout comes back as it is
    model = ReviewClassifier(**upgraded)  # a checkpoint's weights would then fill it
    assert model.loss_fn.gamma == 2.0 and model.loss_fn.alpha.tolist() == [0.5, 1.5]
    assert model.optimizer_settings.betas == (0.9, 0.999)
