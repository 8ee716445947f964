"""Speed levers behind config keys: ``model.freeze_embeddings`` keeps the word embeddings fixed, nothing else."""

from __future__ import annotations

import pytest
import torch

from review_cls.jobs.train import build_datamodule, build_model, build_trainer
from review_cls.models.module import ReviewClassifier


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


def test_chunked_tokenization_gives_the_same_ids(tiny_bert_dir) -> None:
    """Tokenizing in chunks into packed int32 ids (to bound peak memory) must not change a single id."""
    import numpy as np

    from review_cls.data.batching import PackedTokenIds, tokenize_texts
    from review_cls.data.tokenizers import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_bert_dir))
    texts = [f"the app crashes {i} times" * (i % 4 + 1) for i in range(10)]
    expected = tokenizer(texts, truncation=True, max_length=16)["input_ids"]
    packed = tokenize_texts(tokenizer, texts, 16, chunk_size=3)
    assert packed.flat.dtype == np.uint16  # the tiny vocab fits; a 250k vocab needs int32
    assert PackedTokenIds.from_lists([[[70000, 1]]], vocab_size=250_000)[0] == [70000, 1]
    assert list(packed) == expected == list(tokenize_texts(tokenizer, texts, 16, chunk_size=100))
    assert packed.lengths.tolist() == [len(ids) for ids in expected]
    assert packed[-1] == expected[-1]
    with pytest.raises(IndexError):
        packed[len(texts)]


@pytest.mark.parametrize("fused", [True, False])
def test_fused_optimizer_is_a_config_key(compose_train_cfg, fused: bool) -> None:
    model, fit = built_model(compose_train_cfg, f"model.fused_optimizer={str(fused).lower()}", steps=2)
    fit()
    assert model.trainer.optimizers[0].defaults["fused"] is fused
