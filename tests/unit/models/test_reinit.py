"""Re-initialising the top encoder layers: only those and the pooler get fresh BERT-style weights, and counts or
encoders it cannot handle are refused by name."""

from __future__ import annotations

import pytest
import torch
from transformers import BertConfig, BertModel, DistilBertConfig, DistilBertModel

from review_cls.errors import ConfigError
from review_cls.models.reinit import encoder_layers, reinit_top_layers


def tiny_bert() -> BertModel:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    model = BertModel(config)
    with torch.no_grad():  # LayerNorms and biases away from their fresh values, so a reset shows
        for parameter in model.parameters():
            parameter.add_(0.3)
    return model


def snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def test_only_the_last_layers_and_the_pooler_are_redrawn():
    model = tiny_bert()
    before = snapshot(model)
    torch.manual_seed(1)
    reinit_top_layers(model, 2)
    after = snapshot(model)
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    redrawn = ("encoder.layer.1.", "encoder.layer.2.", "pooler.")
    assert changed == {name for name in before if name.startswith(redrawn)}


def test_fresh_weights_are_drawn_like_bert_draws_them():
    model = tiny_bert()
    reinit_top_layers(model, 1)
    top = model.encoder.layer[2]
    assert torch.equal(top.output.LayerNorm.weight, torch.ones(16))
    assert torch.equal(top.output.LayerNorm.bias, torch.zeros(16))
    assert torch.equal(top.intermediate.dense.bias, torch.zeros(32))
    assert torch.equal(model.pooler.dense.bias, torch.zeros(16))
    weights = torch.cat([module.weight.flatten() for module in top.modules() if isinstance(module, torch.nn.Linear)])
    assert weights.mean().abs() < 0.01
    assert weights.std().item() == pytest.approx(model.config.initializer_range, rel=0.15)


def test_zero_layers_changes_nothing_even_on_another_encoder():
    model = DistilBertModel(DistilBertConfig(vocab_size=40, dim=16, n_layers=1, n_heads=2, hidden_dim=32,
                                             max_position_embeddings=32))
    before = snapshot(model)
    reinit_top_layers(model, 0)
    after = snapshot(model)
    assert all(torch.equal(before[name], after[name]) for name in before)


@pytest.mark.parametrize("count", [4, -1])
def test_more_layers_than_the_encoder_has_are_refused(count: int):
    with pytest.raises(ConfigError, match=rf"model.reinit_layers={count}, but the encoder has 3 layers"):
        reinit_top_layers(tiny_bert(), count)


def test_an_encoder_without_bert_layers_is_refused_naming_its_class():
    model = DistilBertModel(DistilBertConfig(vocab_size=40, dim=16, n_layers=1, n_heads=2, hidden_dim=32,
                                             max_position_embeddings=32))
    with pytest.raises(ConfigError, match="DistilBertModel has none"):
        encoder_layers(model)
    assert len(encoder_layers(tiny_bert())) == 3
