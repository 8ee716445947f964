"""Evaluate a trained model on a labeled file: confusion matrix, classification report and predictions.

    python -m review_cls.evaluate ckpt_path=path/to/best.ckpt data=file data.path=new_labeled.csv

See conf/evaluate.yaml for the options (``drop_unknown_labels``, ``device``, the data group's column names). The job
is review_cls/jobs/evaluate.py."""

from __future__ import annotations

from omegaconf import DictConfig

from review_cls.cli import command, run_command


@command("evaluate")
def main(cfg: DictConfig) -> float | None:
    from review_cls.jobs.evaluate import run_evaluation

    return run_command(run_evaluation, cfg, run_folder=True)


if __name__ == "__main__":
    main()
