"""Predict categories for unlabeled reviews.

    python -m review_cls.predict ckpt_path=path/to/best.ckpt input=reviews.csv output=predictions.csv

``ckpt_path`` may also be a folder written by ``python -m review_cls.export``. See conf/predict.yaml for options.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from review_cls.cli import run_job


@hydra.main(version_base="1.3", config_path="../conf", config_name="predict")
def main(cfg: DictConfig) -> None:
    from review_cls.prediction import run_prediction

    run_job(run_prediction, cfg)


if __name__ == "__main__":
    main()
