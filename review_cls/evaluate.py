"""Evaluate a trained model on a labeled file: confusion matrix, classification report and predictions.

    python -m review_cls.evaluate ckpt_path=path/to/best.ckpt data=file data.path=new_labeled.csv

See conf/evaluate.yaml for the options (``drop_unknown_labels``, ``device``, the data group's column names).
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from review_cls.cli import run_job


@hydra.main(version_base="1.3", config_path="../conf", config_name="evaluate")
def main(cfg: DictConfig) -> float:
    from review_cls.evaluation import run_evaluation

    return run_job(run_evaluation, cfg)["eval/f1_macro"]


if __name__ == "__main__":
    main()
