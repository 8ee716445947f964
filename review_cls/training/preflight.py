"""Check a training config before the heavy work: a bad setting should fail in a second, not after tokenizing.

Each config group's checks live next to the code that group configures (review_cls/data/settings.py,
review_cls/models/settings.py) and run here once; the trainer group is checked when the Trainer is built, which
also comes before any data is read. :func:`prepare_run` is the first step of the train and pretrain jobs, so the
checks come first in both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lightning as L
from omegaconf import DictConfig, OmegaConf

from review_cls.data.pretraining import check_masking_settings
from review_cls.data.settings import check_data_settings
from review_cls.inference.checkpoints import resolve_ckpt_path
from review_cls.models.settings import check_model_settings
from review_cls.models.tfidf import check_tfidf_settings
from review_cls.utils.settings import number

def prepare_run(cfg: DictConfig, check_settings: Callable[[DictConfig], None]) -> str | None:
    """The first step the training and pretraining jobs share: ``check_settings`` before any data is read, every
    generator seeded; returns the checkpoint to resume from (``ckpt_path=last`` found), or None."""
    check_settings(cfg)
    ckpt_path = resolve_ckpt_path(cfg.get("ckpt_path"), Path(cfg.paths.log_dir), cfg.get("task_name"))
    L.seed_everything(cfg.seed, workers=True)
    return ckpt_path


def check_training_settings(cfg: DictConfig) -> None:
    """Every check that needs no data: the data group, the model group (with the data's max_length against the
    encoder), and the tfidf group when the run fits the baseline too."""
    check_encoder_settings(cfg)
    if cfg.baseline:
        check_tfidf_settings(cfg.tfidf)


def check_pretraining_settings(cfg: DictConfig) -> None:
    """The data and model groups as for training, and the masking settings (``mlm``)."""
    check_encoder_settings(cfg)
    check_masking_settings(OmegaConf.to_container(cfg.mlm, resolve=True), bool(cfg.model.from_scratch))


def check_encoder_settings(cfg: DictConfig) -> None:
    data = OmegaConf.to_container(cfg.data, resolve=True)
    check_data_settings(data)
    check_model_settings(OmegaConf.to_container(cfg.model, resolve=True), int(number(data, "data", "max_length")))
