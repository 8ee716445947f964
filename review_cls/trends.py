"""What changed (emerging issues by week and app version) and the topics inside each category, recomputed from a
predictions file or a plain review file.

    python -m review_cls.trends input=predictions.csv [output=<folder>] [ckpt_path=<run>/checkpoints/best.ckpt]

See conf/trends.yaml for options. The job is review_cls/jobs/trends.py."""

from __future__ import annotations

from omegaconf import DictConfig

from review_cls.cli import command, run_command


@command("trends")
def main(cfg: DictConfig) -> float | None:
    from review_cls.jobs.trends import interrupted_note, run_trends

    return run_command(run_trends, cfg, interrupted=interrupted_note)


if __name__ == "__main__":
    main()
