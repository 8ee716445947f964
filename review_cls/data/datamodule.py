"""LightningDataModule: read, clean, split, resample (train only), tokenize once, and batch by length."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
from torch.utils.data import DataLoader, Sampler
from transformers import DataCollatorWithPadding, PreTrainedTokenizerBase

from review_cls.data.batching import EpochSampler, TokenizedReviews, tokenize_texts
from review_cls.data.distributed import eval_sampler
from review_cls.data.prepare import (
    SPLITS,
    LabeledReviews,
    check_class_counts,
    drop_rare_classes,
    load_split,
    read_labeled,
    save_split,
    stratified_split,
)
from review_cls.data.resampling import resample_indices
from review_cls.data.tokenizers import build_char_tokenizer, char_vocab_size, load_tokenizer
from review_cls.errors import ConfigError, DataError

log = logging.getLogger(__name__)


class ReviewDataModule(L.LightningDataModule):
    """Everything between a review file and padded batches.

    The split is either a seeded stratified split (``val_size``/``test_size``), a saved ``split.json`` from an
    earlier run (``split_file``), or user-supplied files per split (``split_paths``). Only the training split is
    resampled; the split's row ids are written to ``output_dir/split.json``.
    """

    def __init__(
        self,
        path: str,
        text_column: str = "review",
        label_column: str = "label",
        tokenizer: str | PreTrainedTokenizerBase = "packaged:all-MiniLM-L6-v2",
        sheet_name: str | int | None = None,
        encoding: str = "utf-8",
        val_size: float = 0.1,
        test_size: float = 0.1,
        split_file: str | None = None,
        split_paths: Mapping[str, str] | None = None,
        min_class_count: int = 0,
        resampling: Mapping[str, Any] | None = None,
        max_length: int = 128,
        batch_size: int = 32,
        eval_batch_size: int = 64,
        group_by_length: bool = True,
        num_workers: int = 0,
        seed: int = 42,
        output_dir: str | None = None,
    ) -> None:
        super().__init__()
        check_data_settings(val_size, test_size, max_length, batch_size, split_paths)
        self.path = path
        self.text_column = text_column
        self.label_column = label_column
        self.tokenizer_source = tokenizer
        self.sheet_name = sheet_name
        self.encoding = encoding
        self.val_size = val_size
        self.test_size = test_size
        self.split_file = split_file
        self.split_paths = dict(split_paths) if split_paths else None
        self.min_class_count = min_class_count
        self.resampling = dict(resampling or {"strategy": "none"})
        self.max_length = max_length
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.group_by_length = group_by_length
        self.num_workers = num_workers
        self.seed = seed
        self.output_dir = Path(output_dir) if output_dir else None
        self.labels: list[str] = []
        self.splits: dict[str, LabeledReviews] = {}
        self.datasets: dict[str, TokenizedReviews] = {}
        self._tokenizer: PreTrainedTokenizerBase | None = None

    @property
    def tokenizer(self) -> PreTrainedTokenizerBase:
        if self._tokenizer is None:
            source = self.tokenizer_source
            if isinstance(source, PreTrainedTokenizerBase):
                self._tokenizer = source
            elif char_vocab_size(source):
                if "train" not in self.splits:
                    raise ConfigError(f"data.tokenizer={source} is built from the training split: call setup() first.")
                self._tokenizer = build_char_tokenizer(self.splits["train"].texts, char_vocab_size(source))
                if self.output_dir is not None:
                    self._tokenizer.save_pretrained(self.output_dir / "char_tokenizer")
            else:
                self._tokenizer = load_tokenizer(source)
        return self._tokenizer

    @property
    def train_label_ids(self) -> list[int]:
        """Label ids of the (resampled) training rows, e.g. for ``alpha: auto``."""
        return list(self.datasets["train"].labels)

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        self.splits = self._split_reviews()
        self.labels = sorted(set(self.splits["train"].labels), key=_label_sort_key)
        self._check_labels_known()
        if self.output_dir is not None:
            save_split(self.output_dir / "split.json", {name: split.row_ids for name, split in self.splits.items()}, self.path)
        train = self.splits["train"]
        kept = resample_indices(train.labels, self.resampling.get("strategy", "none"),
                                self.resampling.get("sampling_strategy", "auto"), self.seed)
        self.splits["train"] = train.take(kept)
        for name, split in self.splits.items():
            ids = tokenize_texts(self.tokenizer, split.texts, self.max_length)
            self.datasets[name] = TokenizedReviews(ids, split.label_ids(self.labels))
        log.info("Split sizes: %s", {name: len(data) for name, data in self.datasets.items()})

    def clean_splits(self) -> tuple[dict[str, LabeledReviews], list[str]]:
        """The clean train/val/test reviews (no resampling, no tokenizing) and the label order: what a baseline needs."""
        splits = self._split_reviews()
        return splits, sorted(set(splits["train"].labels), key=_label_sort_key)

    def _split_reviews(self) -> dict[str, LabeledReviews]:
        if self.split_paths:
            return {name: self._read_clean(self.split_paths[name]) for name in SPLITS}
        reviews = self._read_clean(self.path)
        if self.min_class_count:
            reviews = drop_rare_classes(reviews, self.min_class_count)
        if self.split_file:
            positions = _positions_of(reviews.row_ids, load_split(self.split_file), self.split_file)
        else:
            check_class_counts(reviews, self.val_size, self.test_size)
            positions = stratified_split(reviews.labels, self.val_size, self.test_size, self.seed)
        return {name: reviews.take(index) for name, index in positions.items()}

    def _read_clean(self, path: str) -> LabeledReviews:
        return read_labeled(path, self.text_column, self.label_column, self.sheet_name, self.encoding)

    def _check_labels_known(self) -> None:
        """Val/test labels never seen in training cannot be predicted; say which ones."""
        for name in ("val", "test"):
            unknown = sorted(set(self.splits[name].labels) - set(self.labels))
            if unknown:
                raise DataError(f"The {name} split has label(s) {unknown} that never occur in the training split.")

    @property
    def collator(self) -> DataCollatorWithPadding:
        return DataCollatorWithPadding(self.tokenizer, padding="longest")

    def train_dataloader(self) -> DataLoader:
        dataset = self.datasets["train"]
        sampler = EpochSampler(dataset.lengths, self.batch_size, self.seed, self.group_by_length)
        return self._loader(dataset, self.batch_size, sampler)

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._eval_loader("test")

    def _eval_loader(self, name: str) -> DataLoader:
        dataset = self.datasets[name]
        return self._loader(dataset, self.eval_batch_size, eval_sampler(dataset))

    def _loader(self, dataset: TokenizedReviews, batch_size: int, sampler: Sampler[int] | None) -> DataLoader:
        return DataLoader(
            dataset, batch_size=batch_size, sampler=sampler, shuffle=False, collate_fn=self.collator,
            num_workers=self.num_workers, persistent_workers=self.num_workers > 0,
        )


def check_data_settings(
    val_size: float, test_size: float, max_length: int, batch_size: int, split_paths: Mapping[str, str] | None
) -> None:
    """Reject impossible split and batching settings before anything is read."""
    if split_paths:
        missing = [name for name in SPLITS if name not in split_paths]
        if missing:
            raise ConfigError(f"data.split_paths needs a file for each of train, val, test; missing: {missing}.")
        return
    if not (0 < val_size < 1 and 0 < test_size < 1 and val_size + test_size < 1):
        raise ConfigError(
            f"data.val_size={val_size} and data.test_size={test_size} must each be in (0, 1) and sum to less than 1 "
            f"(the rest, {1 - val_size - test_size:.2f}, is the training split)."
        )
    if max_length < 2:
        raise ConfigError(f"data.max_length must be at least 2, got {max_length}.")
    if batch_size < 1:
        raise ConfigError(f"data.batch_size must be at least 1, got {batch_size}.")


def _label_sort_key(label: str) -> tuple[int, Any]:
    """Integer labels sort numerically (2 before 10), names alphabetically."""
    return (0, int(label)) if label.lstrip("-").isdigit() else (1, label)


def _positions_of(row_ids: np.ndarray, split: dict[str, np.ndarray], split_file: str) -> dict[str, np.ndarray]:
    """Map a saved split's file row ids to positions in the cleaned reviews."""
    position = pd.Series(np.arange(len(row_ids)), index=row_ids)
    missing = [int(i) for name in SPLITS for i in split[name] if i not in position.index]
    if missing:
        raise DataError(f"Split file '{split_file}' names {len(missing)} row(s) not in the cleaned data (e.g. {missing[:5]}); "
                        "it was made from a different file.")
    return {name: position.loc[split[name]].to_numpy() for name in SPLITS}
