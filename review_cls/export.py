"""Export a checkpoint as a Hugging Face model folder that ``transformers.pipeline`` loads offline.

    python -m review_cls.export ckpt_path=path/to/best.ckpt out=models/review-classifier [overwrite=true]

The job is review_cls/jobs/export.py."""

from __future__ import annotations

from omegaconf import DictConfig

from review_cls.cli import command, run_command


@command("export")
def main(cfg: DictConfig) -> float | None:
    from review_cls.jobs.export import run_export

    return run_command(run_export, cfg)


if __name__ == "__main__":
    main()
