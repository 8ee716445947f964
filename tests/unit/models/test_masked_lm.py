"""The masked-LM loss computed on masked tokens only equals the model's own full-vocab loss, and its gradient."""

from __future__ import annotations

import torch
from transformers import BertConfig, BertForMaskedLM, DistilBertConfig, DistilBertForMaskedLM

from review_cls.models.masked_lm import masked_lm_loss


def _batch(vocab_size: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(5, vocab_size, (3, 12), generator=generator)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 8:] = 0
    labels = torch.full_like(input_ids, -100)
    labels[0, [1, 4]] = input_ids[0, [1, 4]]
    labels[2, 7] = 3
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def test_masked_only_loss_equals_the_full_vocab_loss_and_its_gradient():
    torch.manual_seed(0)
    model = BertForMaskedLM(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                       intermediate_size=32, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))
    batch = _batch(50)
    full = model(**batch).loss
    full.backward()
    expected = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    ours = masked_lm_loss(model, batch)
    ours.backward()
    assert torch.allclose(ours, full, atol=1e-6)
    for name, grad in expected.items():
        assert torch.allclose(dict(model.named_parameters())[name].grad, grad, atol=1e-6), name


def test_a_model_without_a_known_head_falls_back_to_its_own_loss():
    torch.manual_seed(0)
    model = DistilBertForMaskedLM(DistilBertConfig(vocab_size=50, dim=16, n_layers=1, n_heads=2, hidden_dim=32,
                                                   dropout=0.0, attention_dropout=0.0))
    batch = _batch(50)
    assert torch.allclose(masked_lm_loss(model, batch), model(**batch).loss)
