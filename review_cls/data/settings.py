"""Checks of the data config group (conf/data/): impossible split, batching, encoding and resampling settings fail in
a second, before any file is read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from review_cls.data.io import check_encoding, checked_sep
from review_cls.data.label_sets import LabelSpec, check_label_spec, check_resampling_task
from review_cls.data.prepare import SPLITS
from review_cls.data.resampling import STRATEGIES
from review_cls.data.tokenizers import char_vocab_size
from review_cls.errors import ConfigError
from review_cls.utils.settings import number


def check_data_settings(data: Mapping[str, Any]) -> None:
    """Every data setting that can be judged without the data (resolved ``cfg.data`` as a plain mapping)."""
    check_split_and_batching(data)
    check_encoding(str(data["encoding"]))
    checked_sep(data["sep"], "data.sep")
    if int(number(data, "data", "min_class_count")) < 0:
        raise ConfigError(f"data.min_class_count must be >= 0, got {data['min_class_count']}.")
    strategy = data["resampling"]["strategy"]
    if strategy not in STRATEGIES:
        raise ConfigError(f"Unknown data.resampling.strategy '{strategy}'. Choose one of: {', '.join(STRATEGIES)}.")
    check_label_spec(data)
    if data.get("prune_vocab") and char_vocab_size(data["tokenizer"]):
        raise ConfigError(f"model.prune_vocab=true keeps the pretrained tokenizer's pieces that the training split uses, "
                          f"but data.tokenizer={data['tokenizer']} builds a vocab of its own: set model.prune_vocab=false.")
    check_resampling_task(strategy, LabelSpec.of(data).multilabel_before_reading)
    if not isinstance(data["resampling"].get("every_epoch", False), bool):
        raise ConfigError(f"data.resampling.every_epoch must be true or false, got {data['resampling']['every_epoch']!r}.")


def check_split_and_batching(data: Mapping[str, Any]) -> None:
    """Split files for every split, or split fractions that leave a training split; a usable length and batch size."""
    split_paths = data.get("split_paths")
    if split_paths:
        missing = [name for name in SPLITS if name not in split_paths]
        if missing:
            raise ConfigError(f"data.split_paths needs a file for each of train, val, test; missing: {missing}.")
        return
    val_size, test_size = number(data, "data", "val_size"), number(data, "data", "test_size")
    if not (0 < val_size < 1 and 0 < test_size < 1 and val_size + test_size < 1):
        raise ConfigError(
            f"data.val_size={val_size} and data.test_size={test_size} must each be in (0, 1) and sum to less than 1 "
            f"(the rest, {1 - val_size - test_size:.2f}, is the training split)."
        )
    max_length = int(number(data, "data", "max_length"))
    if max_length < 2:
        raise ConfigError(f"data.max_length must be at least 2, got {max_length}.")
    batch_size = int(number(data, "data", "batch_size"))
    if batch_size < 1:
        raise ConfigError(f"data.batch_size must be at least 1, got {batch_size}.")

