"""Sentence vectors from a trained classifier's own encoder (its last layer mean-pooled over the review's tokens):
what the topics inside a category are clustered on, with no second model to install or load."""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from transformers import DataCollatorWithPadding, PreTrainedModel, PreTrainedTokenizerBase

from review_cls.data.batching import tokenize_texts
from review_cls.monitoring.topics import Embed


def encoder_of(model: torch.nn.Module) -> torch.nn.Module:
    """The transformer body inside a classifier (a ReviewClassifier, an exported model, or a bare HF model)."""
    found = next((module for module in model.modules() if isinstance(module, PreTrainedModel)), None)
    if found is None:
        raise TypeError(f"{type(model).__name__} holds no Hugging Face model to take sentence vectors from.")
    return found.base_model


@torch.inference_mode()
def mean_pooled(model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int,
                batch_size: int = 64) -> np.ndarray:
    """One vector per text (N x hidden, float32): the encoder's last hidden states averaged over the real tokens,
    truncated as in training; texts run shortest first so each batch pads to its own longest."""
    encoder = encoder_of(model)
    device = next(encoder.parameters()).device
    input_ids = tokenize_texts(tokenizer, texts, max_length)
    order = np.argsort(input_ids.lengths, kind="stable")
    collator = DataCollatorWithPadding(tokenizer, padding="longest")
    vectors = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        batch = collator([{"input_ids": input_ids[i]} for i in rows])
        mask = batch["attention_mask"].to(device)
        hidden = encoder(input_ids=batch["input_ids"].to(device), attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        vectors[rows] = ((hidden * weights).sum(1) / weights.sum(1).clamp(min=1)).float().cpu().numpy()
    return vectors


def model_embedder(predictor: object, batch_size: int = 64) -> Embed | None:
    """Sentence vectors from a PyTorch predictor's model (the model inside a predictor that wraps one, as the blend
    with TF-IDF does); None for one without (ONNX Runtime: topics then use TF-IDF vectors, docs/predict.md)."""
    model = getattr(predictor, "model", None)
    if model is not None and not isinstance(model, torch.nn.Module):  # a wrapped predictor: its model's encoder
        return model_embedder(model, batch_size)
    if model is None:
        return None
    return partial(mean_pooled, model, predictor.tokenizer, max_length=predictor.max_length, batch_size=batch_size)
