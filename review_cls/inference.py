"""Batched inference on raw texts: tokenize once, sort by length, pad per batch, no gradients."""

from __future__ import annotations

import numpy as np
import torch
from transformers import DataCollatorWithPadding, PreTrainedTokenizerBase

from review_cls.data.batching import tokenize_texts


@torch.inference_mode()
def predict_probabilities(
    model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int = 128,
    batch_size: int = 64,
) -> np.ndarray:
    """Class probabilities (N x C, float32) in the order of ``texts``.

    Texts are run shortest first so each batch pads only to its own longest review; results are scattered back.
    ``model`` maps (input_ids, attention_mask) to logits, as :class:`ReviewClassifier` does.
    """
    input_ids = tokenize_texts(tokenizer, texts, max_length)
    order = np.argsort(input_ids.lengths, kind="stable")
    collator = DataCollatorWithPadding(tokenizer, padding="longest")
    device = next(model.parameters()).device
    probabilities: np.ndarray | None = None
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        batch = collator([{"input_ids": input_ids[i]} for i in rows])
        logits = model(batch["input_ids"].to(device), batch["attention_mask"].to(device))
        chunk = logits.float().softmax(dim=-1).cpu().numpy()
        if probabilities is None:
            probabilities = np.empty((len(texts), chunk.shape[1]), dtype=np.float32)
        probabilities[rows] = chunk
    return probabilities if probabilities is not None else np.empty((0, 0), dtype=np.float32)
