"""Validation/test sharding under DDP that counts every review exactly once."""

from __future__ import annotations

import torch.distributed as dist
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from torch.utils.data import Dataset, DistributedSampler


def eval_sampler(dataset: Dataset) -> DistributedSampler | None:
    """``None`` in a single process; under DDP a sampler that splits the set across ranks without padding.

    Lightning would otherwise wrap eval loaders in a ``DistributedSampler``, which repeats reviews until every rank
    has the same count: with 27 test reviews on 2 ranks one is counted twice and macro-F1 shifts. Lightning keeps
    a loader's sampler when it already is a ``DistributedSampler``. Ranks may then run one batch fewer, which is
    safe in evaluation (no gradient sync); torchmetrics sums the states of all ranks.
    """
    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return None
    return UnrepeatedDistributedSampler(dataset, shuffle=False)
