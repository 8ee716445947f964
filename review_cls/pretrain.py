"""Continue pretraining an encoder on review texts (masked LM, no labels needed), then fine-tune from the result:

    python -m review_cls.pretrain data=file data.path=unlabeled.csv data.text_column=review
    python -m review_cls.train model.pretrained=lightning_logs/pretrain/runs/<time>/pretrained_model data=...

See conf/pretrain.yaml for the options (``mlm.*``). The job is review_cls/jobs/pretrain.py."""

from __future__ import annotations

from omegaconf import DictConfig

from review_cls.cli import command, run_command


@command("pretrain")
def main(cfg: DictConfig) -> float | None:
    from review_cls.jobs.pretrain import run_pretraining

    return run_command(run_pretraining, cfg, run_folder=True, sigterm=False)


if __name__ == "__main__":
    main()
