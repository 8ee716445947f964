"""AdamW with linear warmup, the one optimizer recipe of every LightningModule here (classifier and masked-LM):
no decay on biases and norms, optional layer-wise lr decay and a word-embedding lr."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import lightning as L
import torch
from transformers import get_linear_schedule_with_warmup

from review_cls.errors import ConfigError
from review_cls.utils.settings import flag, number

log = logging.getLogger(__name__)
NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")
LAYER_INDEX = re.compile(r"\.layer\.(\d+)\.")


@dataclass(frozen=True)
class OptimizerSettings:
    """The optimizer keys of the model group (conf/model/minilm.yaml), checked when built: AdamW's step, its warmup,
    and which weights move how fast and when (``layer_decay``, ``embedding_lr``, ``frozen_body_epochs``)."""

    lr: float
    weight_decay: float
    warmup_ratio: float
    betas: tuple[float, float]
    fused_optimizer: bool
    layer_decay: float
    embedding_lr: float | None
    frozen_body_epochs: int

    def __post_init__(self) -> None:
        values = vars(self)
        if not number(values, "model", "lr") > 0:
            raise ConfigError(f"model.lr must be > 0, got {self.lr}.")
        if number(values, "model", "weight_decay") < 0:
            raise ConfigError(f"model.weight_decay must be >= 0, got {self.weight_decay}.")
        if not 0 <= number(values, "model", "warmup_ratio") < 1:
            raise ConfigError(f"model.warmup_ratio must be in [0, 1), got {self.warmup_ratio}.")
        object.__setattr__(self, "betas", checked_betas(self.betas))
        flag(values, "fused_optimizer", "model.")
        if not 0 < number(values, "model", "layer_decay") <= 1:
            raise ConfigError(f"model.layer_decay must be in (0, 1] (1 = the same lr for every layer), got "
                              f"{self.layer_decay}.")
        if self.embedding_lr is not None and not number(values, "model", "embedding_lr") > 0:
            raise ConfigError(f"model.embedding_lr must be > 0 or null, got {self.embedding_lr}.")
        epochs = self.frozen_body_epochs
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise ConfigError(f"model.frozen_body_epochs must be a whole number >= 0, got {epochs!r}.")


def checked_betas(betas: Sequence[float]) -> tuple[float, float]:
    """AdamW's two moment decays, each in [0, 1)."""
    if (isinstance(betas, str) or not isinstance(betas, Sequence) or len(betas) != 2
            or not all(not isinstance(b, bool) and isinstance(b, (int, float)) and 0 <= b < 1 for b in betas)):
        raise ConfigError(f"model.betas must be two numbers in [0, 1), e.g. [0.9, 0.999]; got {betas!r}.")
    return float(betas[0]), float(betas[1])


def adamw_with_warmup(module: L.LightningModule, settings: OptimizerSettings) -> dict[str, Any]:
    """AdamW over :func:`optimizer_groups`; linear warmup over ``warmup_ratio`` of the real step count."""
    optimizer = torch.optim.AdamW(
        optimizer_groups(module.named_parameters(), settings.lr, settings.weight_decay,
                         module.model.config.num_hidden_layers, settings.layer_decay, settings.embedding_lr),
        lr=settings.lr,
        betas=settings.betas,
        fused=_fused(settings.fused_optimizer, module.trainer.precision),
    )
    total_steps = max(int(module.trainer.estimated_stepping_batches), 1)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(settings.warmup_ratio * total_steps), total_steps)
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def layer_depth(name: str, num_layers: int) -> int:
    """0 for embeddings, i + 1 for transformer layer i, num_layers + 1 for the pooler and head."""
    if name.startswith("embeddings.") or ".embeddings." in name:
        return 0
    match = LAYER_INDEX.search(name)
    return int(match.group(1)) + 1 if match else num_layers + 1


def optimizer_groups(
    named_parameters: Iterable[tuple[str, torch.nn.Parameter]], lr: float, weight_decay: float, num_layers: int,
    layer_decay: float = 1.0, embedding_lr: float | None = None,
) -> list[dict]:
    """One group per (lr, decay) pair. ``layer_decay`` < 1 gives layer depth d the lr ``lr * layer_decay**(top - d)``
    (Howard & Ruder 2018; lower layers hold general features and move less); ``embedding_lr`` overrides the lr of
    the word-embedding matrix, e.g. a new one that must learn from scratch (model.new_word_embeddings)."""
    groups: dict[tuple[float, float], list[torch.nn.Parameter]] = {}
    for name, parameter in named_parameters:
        if not parameter.requires_grad:
            continue
        group_lr = lr * layer_decay ** (num_layers + 1 - layer_depth(name, num_layers))
        if embedding_lr is not None and name.endswith("word_embeddings.weight"):
            group_lr = embedding_lr
        decay = 0.0 if name.endswith(NO_DECAY) else weight_decay
        groups.setdefault((group_lr, decay), []).append(parameter)
    return [{"params": params, "lr": group_lr, "weight_decay": decay} for (group_lr, decay), params in groups.items()]


def _fused(fused: bool, precision: Any) -> bool:
    """Fused AdamW (one kernel instead of a loop over tensors: ~8x faster steps on CPU, docs/benchmarks/speed.md), except
    under mixed precision: it unscales gradients itself, and Lightning then refuses gradient clipping."""
    if fused and "mixed" in str(precision):
        log.info("precision=%s: AdamW runs unfused so gradients can be clipped.", precision)
        return False
    return fused
