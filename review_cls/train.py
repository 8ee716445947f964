"""Train a review classifier: ``python -m review_cls.train [+experiment=NAME] [key=value ...]``.

Returns ``cfg.optimized_metric`` for sweepers (``None`` for a failed trial of a multirun). The job is
review_cls/jobs/train.py."""

from __future__ import annotations

from omegaconf import DictConfig

from review_cls.cli import command, run_command


@command("train")
def main(cfg: DictConfig) -> float | None:
    from review_cls.jobs.train import run_training

    return run_command(run_training, cfg, run_folder=True, sigterm=False)


if __name__ == "__main__":
    main()
