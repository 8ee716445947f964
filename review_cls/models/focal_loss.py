"""Multi-class focal loss (Lin et al. 2017): down-weights easy reviews so rare, hard classes get the gradient."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from review_cls.errors import ConfigError


class FocalLoss(nn.Module):
    """``-alpha_y (1 - p_y)^gamma log p_y``, averaged like ``cross_entropy`` (weighted mean when alpha is set).

    Computed in fp32 whatever the autocast dtype. ``gamma=0`` without alpha is exactly cross-entropy, and
    ``gamma=0`` with alpha is exactly class-weighted cross-entropy.
    """

    def __init__(self, gamma: float, alpha: Sequence[float] | None = None) -> None:
        super().__init__()
        self.gamma = float(gamma)
        weights = None if alpha is None else torch.as_tensor(list(alpha), dtype=torch.float32)
        self.register_buffer("alpha", weights, persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        log_probs = F.log_softmax(logits.float(), dim=-1)
        target_log_probs = log_probs.gather(1, target.unsqueeze(1)).squeeze(1)
        focal = (1.0 - target_log_probs.exp()).pow(self.gamma) if self.gamma else 1.0
        losses = -focal * target_log_probs
        if self.alpha is None:
            return losses.mean()
        weights = self.alpha.to(logits.device)[target]
        return (weights * losses).sum() / weights.sum()


def inverse_frequency_alpha(label_ids: Sequence[int], num_labels: int) -> list[float]:
    """Per-class weights proportional to 1 / class frequency, normalised to mean 1 (``alpha: auto``)."""
    counts = np.bincount(np.asarray(label_ids, dtype=np.int64), minlength=num_labels).astype(float)
    if (counts == 0).any():
        missing = np.flatnonzero(counts == 0).tolist()
        raise ConfigError(f"alpha=auto needs every class in the training split; class id(s) {missing} have none.")
    inverse = 1.0 / counts
    return (inverse * num_labels / inverse.sum()).tolist()


def resolve_alpha(alpha: str | Sequence[float] | None, label_ids: Sequence[int], num_labels: int) -> list[float] | None:
    """Turn the ``alpha`` setting (None, ``auto`` or a list) into per-class weights, checking its length."""
    if alpha is None:
        return None
    if isinstance(alpha, str):
        if alpha != "auto":
            raise ConfigError(f"model.alpha must be null, 'auto' or a list of {num_labels} numbers, got '{alpha}'.")
        return inverse_frequency_alpha(label_ids, num_labels)
    values = [float(value) for value in alpha]
    if len(values) != num_labels:
        raise ConfigError(f"model.alpha has {len(values)} value(s) but there are {num_labels} classes.")
    return values
