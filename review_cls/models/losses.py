"""Losses on top of focal loss: the logit-adjusted loss and R-Drop's consistency penalty.

Logit-adjusted loss (Menon et al. 2021; balanced softmax, Ren et al. 2020 is ``tau = 1``): training adds
``tau * log prior(y)`` to every logit before the loss, so frequent classes must win by a margin that grows with their
share; prediction uses the raw logits, which then favour rare classes by the same amount. Unlike class weights it
does not rescale any review's gradient, and unlike undersampling it keeps every review.

R-Drop (Liang et al. 2021): each training review goes through the model twice, with two dropout masks, and the
symmetric KL divergence between the two predictions is added to the loss, so the model cannot lean on any one
dropout sub-network; a regulariser for small, noisy training sets, at twice the training cost.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from review_cls.errors import ConfigError
from review_cls.models.focal_loss import class_counts


def log_prior_offsets(label_ids: Sequence[int], labels: Sequence[str], tau: float) -> list[float] | None:
    """``tau * log(class frequency)`` of the training labels; None when ``tau`` is 0 (plain loss)."""
    if tau < 0:
        raise ConfigError(f"model.logit_adjustment (tau) must be >= 0, got {tau}.")
    if not tau:
        return None
    counts = class_counts(label_ids, labels, "model.logit_adjustment")
    return (tau * np.log(counts / counts.sum())).tolist()


class LogitAdjusted(nn.Module):
    """Wraps a loss on logits: ``loss(logits + offsets, target)``."""

    def __init__(self, loss: nn.Module, offsets: Sequence[float]) -> None:
        super().__init__()
        self.loss = loss
        self.register_buffer("offsets", torch.as_tensor(list(offsets), dtype=torch.float32), persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.loss(logits.float() + self.offsets.to(logits.device), target)


class SigmoidBCE(nn.BCEWithLogitsLoss):
    """The multi-label loss: ``BCEWithLogitsLoss`` (one sigmoid per label, ``pos_weight`` per label) computed in fp32
    whatever the autocast dtype, as focal loss is; the targets are the 0/1 float rows of each review's labels."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return super().forward(logits.float(), target.float())


def rdrop_penalty(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Symmetric KL divergence between the class distributions of two passes over the same reviews, per review
    (``batchmean``), in fp32."""
    first, second = first.float().log_softmax(dim=-1), second.float().log_softmax(dim=-1)
    forward = F.kl_div(first, second, reduction="batchmean", log_target=True)
    backward = F.kl_div(second, first, reduction="batchmean", log_target=True)
    return (forward + backward) / 2
