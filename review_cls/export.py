"""Export a checkpoint as a Hugging Face model folder that ``transformers.pipeline`` loads offline.

    python -m review_cls.export ckpt_path=path/to/best.ckpt out=models/review-classifier [overwrite=true]

The job is review_cls/jobs/export.py."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from review_cls.cli import CONF_DIR, run_command


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="export")
def main(cfg: DictConfig) -> float | None:
    from review_cls.jobs.export import run_export

    return run_command(run_export, cfg)


if __name__ == "__main__":
    main()
