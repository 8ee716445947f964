"""Regularising levers: R-Drop (model.rdrop_alpha) reaches the training loss, and model.reinit_layers restarts exactly the
top layers of the pretrained encoder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from review_cls.errors import ConfigError
from review_cls.models.losses import rdrop_penalty
from review_cls.models.losses import RDrop
from review_cls.models.model_settings import ModelSettings
from review_cls.training.builders import build_datamodule
from tests.helpers import group_settings, review_classifier
from tests.unit.models.test_module import built_model

LABELS = ["bug", "price", "ux"]


def test_rdrop_penalty_is_the_symmetric_kl_per_review() -> None:
    first, second = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]]), torch.tensor([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    p, q = first.softmax(-1), second.softmax(-1)
    kl_pq, kl_qp = (p * (p / q).log()).sum(-1), (q * (q / p).log()).sum(-1)
    assert rdrop_penalty(first, second) == pytest.approx(((kl_pq + kl_qp) / 2).mean().item(), rel=1e-5)
    assert rdrop_penalty(first, second) == pytest.approx(rdrop_penalty(second, first).item())
    assert rdrop_penalty(first, first) == pytest.approx(0.0, abs=1e-7)


def test_rdrop_loss_is_two_dropout_passes_plus_their_kl(compose_train_cfg) -> None:
    model, fit = built_model(compose_train_cfg, "model.rdrop_alpha=2.0", steps=2)
    assert isinstance(model.loss_fn, RDrop) and model.loss_fn.alpha == 2.0
    batch = first_training_batch(compose_train_cfg)
    model.train()
    torch.manual_seed(3)
    logits, loss = model._logits_and_loss(batch, "train")
    torch.manual_seed(3)  # the same dropout masks again, computed by hand
    twice = model(batch["input_ids"].repeat(2, 1), batch["attention_mask"].repeat(2, 1))
    first, second = twice.chunk(2)
    penalty = rdrop_penalty(first, second)
    expected = (F.cross_entropy(first, batch["labels"]) + F.cross_entropy(second, batch["labels"])) / 2 + 2.0 * penalty
    assert penalty > 0  # the two passes drew different dropout masks
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert torch.equal(logits, first)
    logits, loss = model._logits_and_loss(batch, "val")  # validation scores one pass, without the KL
    assert loss.item() == pytest.approx(F.cross_entropy(logits, batch["labels"]).item(), rel=1e-5)
    rows_seen: list[int] = []
    model.model.register_forward_hook(lambda module, args, kwargs, out: rows_seen.append(kwargs["input_ids"].shape[0]),
                                      with_kwargs=True)
    fit()  # a real training run goes the same way: every batch twice
    assert model.trainer.global_step == 2
    assert rows_seen == [2 * len(batch["labels"])] * 2


def first_training_batch(compose_train_cfg) -> dict[str, torch.Tensor]:
    datamodule = build_datamodule(compose_train_cfg())
    datamodule.setup("fit")
    return next(iter(datamodule.train_dataloader()))


def test_without_dropout_rdrop_adds_nothing(compose_train_cfg) -> None:
    model, _ = built_model(compose_train_cfg, "model.rdrop_alpha=5.0", steps=1)
    model.model.eval()  # no dropout: both passes agree
    batch = first_training_batch(compose_train_cfg)
    logits, loss = model._logits_and_loss(batch, "train")
    assert loss.item() == pytest.approx(F.cross_entropy(logits, batch["labels"]).item(), rel=1e-5)


def state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def test_reinit_restarts_only_the_top_layers_and_the_pooler(tiny_bert_dir: Path) -> None:
    kept = state(review_classifier(LABELS, [0, 1, 2], 32, str(tiny_bert_dir)).model)
    torch.manual_seed(0)
    restarted_model = review_classifier(LABELS, [0, 1, 2], 32, str(tiny_bert_dir), reinit_layers=1).model
    restarted = state(restarted_model)
    changed = {name for name in kept if not torch.equal(kept[name], restarted[name])}
    top = {name for name in kept if name.startswith(("bert.encoder.layer.1.", "bert.pooler."))}
    assert {name for name in top if name.endswith("weight") and "LayerNorm" not in name} <= changed
    assert not {name for name in changed if not name.startswith(("bert.encoder.layer.1.", "bert.pooler.", "classifier."))}
    layer = restarted_model.bert.encoder.layer[1]
    assert torch.equal(layer.output.LayerNorm.weight, torch.ones_like(layer.output.LayerNorm.weight))
    assert torch.count_nonzero(layer.output.dense.bias) == 0
    std = restarted_model.config.initializer_range
    assert layer.intermediate.dense.weight.std().item() == pytest.approx(std, rel=0.2)


@pytest.mark.parametrize(("setting", "fragment"), [
    ({"reinit_layers": 3}, "from 0 to 2"),
    ({"reinit_layers": -1}, "from 0 to 2"),
    ({"reinit_layers": 1, "from_scratch": True}, "random already"),
    ({"rdrop_alpha": -0.5}, "rdrop_alpha"),
])
def test_bad_rdrop_and_reinit_settings_are_config_errors(tiny_bert_dir: Path, setting, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        ModelSettings.from_config(group_settings("model", "minilm", pretrained=str(tiny_bert_dir)) | setting)


def test_reinit_of_zero_layers_touches_no_encoder() -> None:
    """The default (0) must not require a BERT-style ``encoder.layer`` stack: any encoder builds as before."""
    from review_cls.models.reinit import reinit_top_layers

    class NoEncoder(torch.nn.Module):
        base_model = torch.nn.Identity()

    reinit_top_layers(NoEncoder(), 0)
    with pytest.raises(ConfigError, match="BERT-family"):
        reinit_top_layers(NoEncoder(), 1)
