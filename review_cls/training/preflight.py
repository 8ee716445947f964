"""Check a training config before the heavy work: a bad setting should fail in a second, not after tokenizing.

Each config group's checks live next to the code that group configures (review_cls/data/settings.py,
review_cls/models/settings.py) and run here once; the trainer group is checked when the Trainer is built, which
also comes before any data is read.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from review_cls.data.pretraining import check_masking_settings
from review_cls.data.settings import check_data_settings
from review_cls.models.settings import check_model_settings
from review_cls.models.tfidf import check_tfidf_settings
from review_cls.utils.settings import number


def check_training_settings(cfg: DictConfig) -> None:
    """Every check that needs no data: the data group, the model group (with the data's max_length against the
    encoder), and the tfidf group when the run fits the baseline too."""
    check_encoder_settings(cfg)
    if cfg.get("baseline", False):
        check_tfidf_settings(cfg.tfidf)


def check_pretraining_settings(cfg: DictConfig) -> None:
    """The data and model groups as for training, and the masking settings (``mlm``)."""
    check_encoder_settings(cfg)
    check_masking_settings(OmegaConf.to_container(cfg.mlm, resolve=True), bool(cfg.model.from_scratch))


def check_encoder_settings(cfg: DictConfig) -> None:
    data = OmegaConf.to_container(cfg.data, resolve=True)
    check_data_settings(data)
    check_model_settings(OmegaConf.to_container(cfg.model, resolve=True), int(number(data, "data", "max_length")))
