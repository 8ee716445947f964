"""Check a training config before the heavy work: a bad setting should fail in a second, not after tokenizing.

Each config group becomes a settings object that checks it when built, next to the code that group configures
(review_cls/data/data_settings.py, review_cls/models/model_settings.py): built here first; the builders build the same objects
again from the same config. The trainer group is checked when the Trainer is built, which also comes before any
data is read. :func:`prepare_run` is the first step of the train and pretrain jobs, so the
checks come first in both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lightning as L
from omegaconf import DictConfig, OmegaConf

from review_cls.data.pretraining import check_masking_settings
from review_cls.data.data_settings import DataSettings
from review_cls.inference.checkpoints import resolve_ckpt_path
from review_cls.models.model_settings import ModelSettings
from review_cls.models.tfidf import check_tfidf_settings
from review_cls.training.run_blend import blend_rule


def prepare_run(cfg: DictConfig, check_settings: Callable[[DictConfig], None]) -> str | None:
    """The first step the training and pretraining jobs share: ``check_settings`` before any data is read, every
    generator seeded; returns the checkpoint to resume from (``ckpt_path=last`` found), or None."""
    check_settings(cfg)
    ckpt_path = resolve_ckpt_path(cfg.get("ckpt_path"), Path(cfg.paths.log_dir), cfg.get("task_name"))
    L.seed_everything(cfg.seed, workers=True)
    return ckpt_path


def check_training_settings(cfg: DictConfig) -> None:
    """Every check that needs no data: the data group, the model group (with the data's max_length against the
    encoder), the tfidf group when the run fits the baseline too, and the blend setting."""
    check_encoder_settings(cfg)
    if cfg.baseline:
        check_tfidf_settings(cfg.tfidf)
    blend_rule(cfg)


def check_pretraining_settings(cfg: DictConfig) -> None:
    """The data and model groups as for training, and the masking settings (``mlm``)."""
    model = check_encoder_settings(cfg)
    check_masking_settings(OmegaConf.to_container(cfg.mlm, resolve=True), model.from_scratch)


def check_encoder_settings(cfg: DictConfig) -> ModelSettings:
    """The data and model groups built (and so checked), and the data's max_length against the encoder."""
    data = DataSettings.from_config(cfg.data)
    model = ModelSettings.from_config(cfg.model)
    model.check_max_length(data.max_length)
    return model
