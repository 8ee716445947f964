"""The next reviews to label: the most uncertain of an unlabeled pool, with Label Studio import tasks.

    python -m review_cls.select ckpt_path=path/to/best.ckpt input=unlabeled.csv n=200
    python -m review_cls.select select.from_label_studio=export.json   # annotations -> labeled.csv (text,label)

See conf/select.yaml for options. The job is review_cls/jobs/select.py."""

from __future__ import annotations

from omegaconf import DictConfig

from review_cls.cli import command, run_command


@command("select")
def main(cfg: DictConfig) -> float | None:
    from review_cls.jobs.select import run_selection

    return run_command(run_selection, cfg)


if __name__ == "__main__":
    main()
