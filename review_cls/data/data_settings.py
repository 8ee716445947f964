"""The data config group (conf/data/) as one typed, frozen object, built and checked once before any file is read:
impossible split, batching, encoding and resampling settings fail in a second."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from review_cls.data.io import check_encoding, checked_sep
from review_cls.data.label_sets import LabelSpec, check_label_spec, check_resampling_task
from review_cls.data.prepare import SPLITS
from review_cls.data.resampling import STRATEGIES
from review_cls.data.tokenizers import char_vocab_size
from review_cls.errors import ConfigError
from review_cls.utils.settings import (
    check_known_keys,
    field_names,
    field_values,
    flag,
    group_values,
    number,
    whole_number,
)

# what the run fills into the data group (its seed, its folder: conf/train.yaml): passed beside the settings
RUN_KEYS = ("seed", "output_dir")


@dataclass(frozen=True)
class ResamplingSettings:
    """``data.resampling``: how the training split is rebalanced (imbalanced-learn's ``strategy`` and
    ``sampling_strategy``), once or with a fresh draw every epoch."""

    strategy: str
    sampling_strategy: Any
    every_epoch: bool

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"Unknown data.resampling.strategy '{self.strategy}'. Choose one of: "
                              f"{', '.join(STRATEGIES)}.")
        if not isinstance(self.every_epoch, bool):
            raise ConfigError(f"data.resampling.every_epoch must be true or false, got {self.every_epoch!r}.")


@dataclass(frozen=True)
class DataSettings:
    """What to read (``path``, its columns and labels, how the file is encoded), which tokenizer, how to split and
    rebalance, and how to batch. :meth:`from_config` reads it from the data group (``cfg.data``)."""

    path: str | None
    text_column: str
    label_column: str
    task: str
    label_separator: str | None
    label_columns: tuple[str, ...] | None
    sheet_name: str | int | None
    encoding: str
    sep: str | None
    tokenizer: str | None
    prune_vocab: bool
    val_size: float
    test_size: float
    split_file: str | None
    split_paths: dict[str, str] | None
    min_class_count: int
    resampling: ResamplingSettings
    max_length: int
    batch_size: int
    eval_batch_size: int
    group_by_length: bool
    num_workers: int

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> DataSettings:
        """The data group as settings, without :data:`RUN_KEYS`: an unknown key names the setting it resembles."""
        values = {key: value for key, value in group_values(data).items() if key not in RUN_KEYS}
        check_known_keys(values, field_names(cls), "data")
        resampling = values.get("resampling")
        if not isinstance(resampling, Mapping):
            raise ConfigError(f"data.resampling must hold strategy, sampling_strategy and every_epoch, got "
                              f"{resampling!r}.")
        check_known_keys(resampling, field_names(ResamplingSettings), "data.resampling")
        parts = {"resampling": ResamplingSettings(**field_values(ResamplingSettings, resampling, "data.resampling"))}
        return cls(**field_values(cls, values | parts, "data"))

    def __post_init__(self) -> None:
        values = vars(self)
        check_split_sizes(self)
        for name, minimum in (("max_length", 2), ("batch_size", 1), ("eval_batch_size", 1), ("num_workers", 0),
                              ("min_class_count", 0)):
            whole_number(values, name, minimum, "data.")
        for name in ("prune_vocab", "group_by_length"):
            flag(values, name, "data.")
        check_encoding(str(self.encoding))
        checked_sep(self.sep, "data.sep")
        check_label_spec(values)
        if self.label_columns is not None and not isinstance(self.label_columns, str):
            object.__setattr__(self, "label_columns", tuple(self.label_columns))
        if self.prune_vocab and char_vocab_size(self.tokenizer):
            raise ConfigError(f"model.prune_vocab=true keeps the pretrained tokenizer's pieces that the training split "
                              f"uses, but data.tokenizer={self.tokenizer} builds a vocab of its own: set "
                              "model.prune_vocab=false.")
        check_resampling_task(self.resampling.strategy, self.label_spec.multilabel_before_reading)

    @property
    def label_spec(self) -> LabelSpec:
        """How the label column(s) are read (data/label_sets.py)."""
        return LabelSpec.of(vars(self))


def check_split_sizes(data: DataSettings) -> None:
    """Split files for every split, or split fractions that leave a training split."""
    if data.split_paths:
        missing = [name for name in SPLITS if name not in data.split_paths]
        if missing:
            raise ConfigError(f"data.split_paths needs a file for each of train, val, test; missing: {missing}.")
        return
    val_size, test_size = number(vars(data), "data", "val_size"), number(vars(data), "data", "test_size")
    if not (0 < val_size < 1 and 0 < test_size < 1 and val_size + test_size < 1):
        raise ConfigError(
            f"data.val_size={val_size} and data.test_size={test_size} must each be in (0, 1) and sum to less than 1 "
            f"(the rest, {1 - val_size - test_size:.2f}, is the training split)."
        )
