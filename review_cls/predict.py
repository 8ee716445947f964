"""Predict categories for unlabeled reviews.

    python -m review_cls.predict ckpt_path=path/to/best.ckpt input=reviews.csv output=predictions.csv

``ckpt_path`` may also be a folder written by ``python -m review_cls.export``. See conf/predict.yaml for options.
The job is review_cls/jobs/predict.py."""

from __future__ import annotations

from omegaconf import DictConfig

from review_cls.cli import command, run_command


@command("predict")
def main(cfg: DictConfig) -> float | None:
    from review_cls.jobs.predict import interrupted_note, run_prediction

    return run_command(run_prediction, cfg, interrupted=interrupted_note)


if __name__ == "__main__":
    main()
