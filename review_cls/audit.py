"""Suspected label errors in a labeled file: every review scored by a model that never saw it, ranked by cleanlab.

    python -m review_cls.audit data=file data.path=labeled.csv                       # TF-IDF per fold
    python -m review_cls.audit data=file data.path=labeled.csv audit.model=finetune  # the transformer per fold

See conf/audit.yaml for options. The job is review_cls/jobs/audit.py."""

from __future__ import annotations

from omegaconf import DictConfig

from review_cls.cli import command, run_command


@command("audit")
def main(cfg: DictConfig) -> float | None:
    from review_cls.jobs.audit import interrupted_note, run_audit

    return run_command(run_audit, cfg, run_folder=True, interrupted=interrupted_note)


if __name__ == "__main__":
    main()
