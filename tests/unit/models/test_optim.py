"""The optimizer recipe: parameter groups by layer depth and decay, the embedding lr, warmup over the real step
count, and fused AdamW switched off under mixed precision."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from review_cls.models.optim import OptimizerSettings, adamw_with_warmup, layer_depth, optimizer_groups


def named(*names: str, frozen: tuple[str, ...] = ()) -> list[tuple[str, torch.nn.Parameter]]:
    parameters = []
    for name in names:
        parameter = torch.nn.Parameter(torch.zeros(2))
        parameter.requires_grad_(name not in frozen)
        parameters.append((name, parameter))
    return parameters


def lr_and_decay_of(groups: list[dict], parameter: torch.nn.Parameter) -> tuple[float, float]:
    (group,) = [group for group in groups if any(p is parameter for p in group["params"])]
    return group["lr"], group["weight_decay"]


def test_layer_depth_counts_embeddings_layers_and_head():
    assert layer_depth("bert.embeddings.word_embeddings.weight", 6) == 0
    assert layer_depth("bert.encoder.layer.0.attention.self.query.weight", 6) == 1
    assert layer_depth("bert.encoder.layer.5.output.dense.weight", 6) == 6
    assert layer_depth("classifier.weight", 6) == 7
    assert layer_depth("bert.pooler.dense.weight", 6) == 7


def test_biases_and_norms_get_no_weight_decay():
    parameters = named("bert.encoder.layer.0.output.dense.weight", "bert.encoder.layer.0.output.dense.bias",
                       "bert.encoder.layer.0.output.LayerNorm.weight")
    groups = optimizer_groups(parameters, lr=1e-3, weight_decay=0.01, num_layers=1)
    decays = [lr_and_decay_of(groups, parameter)[1] for _, parameter in parameters]
    assert decays == [0.01, 0.0, 0.0]


def test_layer_decay_shrinks_the_lr_of_lower_layers_and_embedding_lr_overrides_the_word_embeddings():
    parameters = named("bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
                       "bert.encoder.layer.0.output.dense.weight", "bert.encoder.layer.1.output.dense.weight",
                       "classifier.weight")
    groups = optimizer_groups(parameters, lr=1.0, weight_decay=0.0, num_layers=2, layer_decay=0.5, embedding_lr=3.0)
    lrs = [lr_and_decay_of(groups, parameter)[0] for _, parameter in parameters]
    assert lrs == pytest.approx([3.0, 0.125, 0.25, 0.5, 1.0])


def test_frozen_parameters_are_left_out_of_every_group():
    parameters = named("bert.embeddings.word_embeddings.weight", "classifier.weight",
                       frozen=("bert.embeddings.word_embeddings.weight",))
    groups = optimizer_groups(parameters, lr=1e-3, weight_decay=0.01, num_layers=2)
    optimized = [p for group in groups for p in group["params"]]
    assert len(optimized) == 1 and optimized[0] is parameters[1][1]


class Stand(torch.nn.Module):
    """What adamw_with_warmup reads of a LightningModule: parameters, model.config and trainer."""

    def __init__(self, precision: str, steps: int) -> None:
        super().__init__()
        self.model = torch.nn.Linear(2, 2)
        self.model.config = SimpleNamespace(num_hidden_layers=1)
        self.trainer = SimpleNamespace(estimated_stepping_batches=steps, precision=precision)


def settings(fused: bool) -> OptimizerSettings:
    return OptimizerSettings(lr=0.1, weight_decay=0.0, warmup_ratio=0.25, betas=(0.9, 0.999), fused_optimizer=fused,
                             layer_decay=1.0, embedding_lr=None, frozen_body_epochs=0)


@pytest.mark.parametrize(("precision", "fused"), [("32-true", True), ("bf16-mixed", False)])
def test_fused_adamw_unless_mixed_precision(precision: str, fused: bool):
    configured = adamw_with_warmup(Stand(precision, steps=8), settings(fused=True))
    assert configured["optimizer"].defaults["fused"] is fused


def test_lr_warms_up_linearly_over_the_warmup_share_of_the_steps():
    configured = adamw_with_warmup(Stand("32-true", steps=8), settings(fused=False))
    optimizer, scheduler = configured["optimizer"], configured["lr_scheduler"]["scheduler"]
    assert configured["lr_scheduler"]["interval"] == "step"
    seen = []
    for _ in range(4):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen == pytest.approx([0.0, 0.05, 0.1, 0.1 * 5 / 6])


def test_the_embeddings_of_a_bare_encoder_are_at_depth_zero_too():
    """``named_parameters()`` of a bare BertModel starts with ``embeddings.``, of a classifier with ``bert.embeddings.``."""
    assert layer_depth("embeddings.word_embeddings.weight", 6) == 0
    assert layer_depth("bert.embeddings.word_embeddings.weight", 6) == 0
    assert layer_depth("bert.encoder.layer.2.output.dense.weight", 6) == 3
