"""AdamW with linear warmup, the one optimizer recipe of every LightningModule here (classifier and masked-LM):
no decay on biases and norms, optional layer-wise lr decay and a word-embedding lr."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

import lightning as L
import torch
from transformers import get_linear_schedule_with_warmup

log = logging.getLogger(__name__)
NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")
LAYER_INDEX = re.compile(r"\.layer\.(\d+)\.")


def adamw_with_warmup(module: L.LightningModule, layer_decay: float = 1.0, embedding_lr: float | None = None
                      ) -> dict[str, Any]:
    """AdamW over :func:`optimizer_groups`; linear warmup over ``warmup_ratio`` of the real step count.

    Reads ``lr``, ``weight_decay``, ``betas``, ``warmup_ratio`` and ``fused_optimizer`` from ``module.hparams``.
    """
    hparams = module.hparams
    optimizer = torch.optim.AdamW(
        optimizer_groups(module.named_parameters(), hparams.lr, hparams.weight_decay,
                         module.model.config.num_hidden_layers, layer_decay, embedding_lr),
        lr=hparams.lr,
        betas=tuple(hparams.betas),
        fused=_fused(module),
    )
    total_steps = max(int(module.trainer.estimated_stepping_batches), 1)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(hparams.warmup_ratio * total_steps), total_steps)
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


def _fused(module: L.LightningModule) -> bool:
    """Fused AdamW (one kernel instead of a loop over tensors: ~8x faster steps on CPU, docs/benchmarks/speed.md), except
    under mixed precision: it unscales gradients itself, and Lightning then refuses gradient clipping."""
    fused = bool(module.hparams.fused_optimizer)
    if fused and "mixed" in str(module.trainer.precision):
        log.info("precision=%s: AdamW runs unfused so gradients can be clipped.", module.trainer.precision)
        return False
    return fused
