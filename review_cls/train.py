"""Train a review classifier: ``python -m review_cls.train [+experiment=NAME] [key=value ...]``."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from review_cls.sweeps.record import finite_or_none, run_recorded


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    """Returns ``cfg.optimized_metric`` for sweepers; ``None`` for a failed trial of a multirun."""
    from review_cls.training import run_training

    metrics = run_recorded(run_training, cfg)
    return finite_or_none(metrics.get(cfg.get("optimized_metric", ""))) if metrics is not None else None


if __name__ == "__main__":
    main()
