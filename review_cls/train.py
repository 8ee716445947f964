"""Train a review classifier: ``python -m review_cls.train [+experiment=NAME] [key=value ...]``."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from review_cls.cli import run_job


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    from review_cls.training import run_training

    metrics = run_job(run_training, cfg)
    return metrics.get(cfg.get("optimized_metric", ""))


if __name__ == "__main__":
    main()
