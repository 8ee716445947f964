"""Logit-adjusted loss (Menon et al. 2021; balanced softmax, Ren et al. 2020 is ``tau = 1``).

Training adds ``tau * log prior(y)`` to every logit before the loss, so frequent classes must win by a margin that
grows with their share; prediction uses the raw logits, which then favour rare classes by the same amount. Unlike
class weights it does not rescale any review's gradient, and unlike undersampling it keeps every review.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from review_cls.errors import ConfigError
from review_cls.models.focal_loss import class_counts


def log_prior_offsets(label_ids: Sequence[int], num_labels: int, tau: float) -> list[float] | None:
    """``tau * log(class frequency)`` of the training labels; None when ``tau`` is 0 (plain loss)."""
    if tau < 0:
        raise ConfigError(f"model.logit_adjustment (tau) must be >= 0, got {tau}.")
    if not tau:
        return None
    counts = class_counts(label_ids, num_labels, "model.logit_adjustment")
    return (tau * np.log(counts / counts.sum())).tolist()


class LogitAdjusted(nn.Module):
    """Wraps a loss on logits: ``loss(logits + offsets, target)``."""

    def __init__(self, loss: nn.Module, offsets: Sequence[float]) -> None:
        super().__init__()
        self.loss = loss
        self.register_buffer("offsets", torch.as_tensor(list(offsets), dtype=torch.float32), persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.loss(logits.float() + self.offsets.to(logits.device), target)
