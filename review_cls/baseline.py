"""TF-IDF + logistic regression on exactly a training run's split: does fine-tuning pay on this data?

    python -m review_cls.baseline data=google_play                                   # the split of a seed=42 run
    python -m review_cls.baseline data=google_play data.split_file=<run>/split.json  # an existing run's split

The job is review_cls/jobs/baseline.py."""

from __future__ import annotations

from omegaconf import DictConfig

from review_cls.cli import command, run_command


@command("baseline")
def main(cfg: DictConfig) -> float | None:
    from review_cls.jobs.baseline import run_baseline

    return run_command(run_baseline, cfg)


if __name__ == "__main__":
    main()
