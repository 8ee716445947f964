"""The evaluation sampler: none in one process, and under DDP every review on exactly one rank, none repeated."""

from __future__ import annotations

import torch.distributed as dist
from torch.utils.data import DistributedSampler

from review_cls.data.distributed import eval_sampler


def under_ddp(monkeypatch, world_size: int, rank: int) -> None:
    monkeypatch.setattr(dist, "is_available", lambda: True)
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_world_size", lambda *args, **kwargs: world_size)
    monkeypatch.setattr(dist, "get_rank", lambda *args, **kwargs: rank)


def test_a_single_process_gets_no_sampler_so_lightning_keeps_the_plain_loader():
    assert eval_sampler(list(range(27))) is None


def test_one_rank_under_ddp_needs_no_sharding(monkeypatch):
    under_ddp(monkeypatch, world_size=1, rank=0)
    assert eval_sampler(list(range(27))) is None


def test_27_reviews_on_2_ranks_are_each_counted_once_in_their_order(monkeypatch):
    shards = []
    for rank in (0, 1):
        under_ddp(monkeypatch, world_size=2, rank=rank)
        sampler = eval_sampler(list(range(27)))
        assert isinstance(sampler, DistributedSampler), "Lightning keeps a DistributedSampler as it is"
        shards.append(list(sampler))
        assert len(sampler) == len(shards[-1])
    assert sorted(shards[0] + shards[1]) == list(range(27))
    assert [len(shard) for shard in shards] == [14, 13]
    assert all(shard == sorted(shard) for shard in shards), "evaluation is not shuffled"
