"""Check a training config before the heavy work: a bad setting should fail in a second, not after tokenizing."""

from __future__ import annotations

import codecs
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from review_cls.data.datamodule import check_data_settings
from review_cls.data.resampling import STRATEGIES
from review_cls.errors import ConfigError
from review_cls.models.backbone import encoder_config, model_max_length
from review_cls.models.factory import check_max_length, check_model_settings, checked_architecture


def check_training_settings(cfg: DictConfig) -> None:
    """Every check that needs no data: split sizes, model and optimizer numbers, encoding, max_length vs encoder.

    The alpha length needs the class count, so it is checked once the labels are known (still before training).
    """
    data = OmegaConf.to_container(cfg.data, resolve=True)
    model = OmegaConf.to_container(cfg.model, resolve=True)
    max_length = int(_number(data, "data", "max_length", 128))
    check_data_settings(
        _number(data, "data", "val_size", 0.1), _number(data, "data", "test_size", 0.1), max_length,
        int(_number(data, "data", "batch_size", 32)), data.get("split_paths"),
    )
    dropout = model.get("dropout")
    check_model_settings(
        None if dropout is None else _number(model, "model", "dropout", None),
        _number(model, "model", "gamma", 0.0), _number(model, "model", "lr", 2e-5),
        _number(model, "model", "weight_decay", 0.0), _number(model, "model", "warmup_ratio", 0.0),
    )
    check_alpha_setting(model.get("alpha"))
    check_encoding(str(data.get("encoding") or "utf-8"))
    if int(_number(data, "data", "min_class_count", 0)) < 0:
        raise ConfigError(f"data.min_class_count must be >= 0, got {data['min_class_count']}.")
    strategy = (data.get("resampling") or {}).get("strategy", "none")
    if strategy not in STRATEGIES:
        raise ConfigError(f"Unknown data.resampling.strategy '{strategy}'. Choose one of: {', '.join(STRATEGIES)}.")
    pretrained = str(model["pretrained"])
    encoder = encoder_config(pretrained).to_dict()
    check_max_length(max_length, model_max_length(encoder), pretrained)
    checked_architecture(model.get("architecture"), encoder, bool(model.get("from_scratch")), pretrained)


def check_alpha_setting(alpha: Any) -> None:
    """``alpha`` is null, ``auto``, or a list of non-negative per-class weights (its length is checked later)."""
    if alpha is None or alpha == "auto":
        return
    if isinstance(alpha, str) or not isinstance(alpha, Sequence):
        raise ConfigError(f"model.alpha must be null, 'auto' or a list with one weight per class, got {alpha!r}.")
    for value in alpha:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ConfigError(f"model.alpha must hold non-negative numbers, one per class; got {list(alpha)}.")


def check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ConfigError(
            f"data.encoding='{encoding}' is not an encoding Python knows. Use e.g. utf-8, utf-8-sig, cp950, big5, "
            "gb18030 or latin-1."
        ) from exc


def _number(section: Mapping[str, Any], name: str, key: str, default: float | None) -> float:
    """The setting as a float, or a :class:`ConfigError` naming it when it is not a number (``model.lr=abc``)."""
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name}.{key} must be a number, got {value!r}.")
    return float(value)
