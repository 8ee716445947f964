"""LightningDataModule: read, clean, split, resample (train only), tokenize once, and batch by length."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
from torch.utils.data import DataLoader, Sampler
from transformers import DataCollatorWithPadding, PreTrainedTokenizerBase

from review_cls.data.batching import EpochSampler, TokenizedReviews, require_known_pieces, tokenize_texts
from review_cls.data.distributed import eval_sampler
from review_cls.data.label_sets import check_resampling_task
from review_cls.data.prepare import (
    SPLITS,
    LabeledReviews,
    check_class_counts,
    drop_rare_classes,
    load_split,
    read_labeled,
    save_split,
    stratified_split,
    write_label_conflicts,
)
from review_cls.data.resampling import resample_indices
from review_cls.data.data_settings import DataSettings
from review_cls.data.stratify import iterative_split
from review_cls.data.tokenizers import build_char_tokenizer, char_vocab_size
from review_cls.data.vocab_pruning import prune_to_seen
from review_cls.errors import ConfigError, DataError
from review_cls.models.pretrained import load_tokenizer
from review_cls.utils.run_folder import SPLIT_JSON

log = logging.getLogger(__name__)


class ReviewDataModule(L.LightningDataModule):
    """Everything between a review file and padded batches.

    The split is either a seeded stratified split (``val_size``/``test_size``), a saved ``split.json`` from an
    earlier run (``split_file``), or user-supplied files per split (``split_paths``). Only the training split is
    resampled; the split's row ids are written to ``output_dir/split.json``. Multi-label data (``task``,
    ``label_separator``, ``label_columns``: review_cls/data/label_sets.py) is split by iterative stratification.
    ``settings`` is the data group, checked before anything is read (review_cls/data/data_settings.py); the run gives its
    ``seed``, its folder (``output_dir``, where split.json and a built tokenizer go) and, to reuse one, a
    ``tokenizer`` in place of ``settings.tokenizer``.
    """

    def __init__(self, settings: DataSettings, seed: int | None, output_dir: str | None = None,
                 tokenizer: PreTrainedTokenizerBase | None = None) -> None:
        super().__init__()
        self.settings, self.seed = settings, seed
        self.tokenizer_source: str | PreTrainedTokenizerBase | None = (
            tokenizer if tokenizer is not None else settings.tokenizer)
        self.output_dir = Path(output_dir) if output_dir else None
        self.labels: list[str] = []
        self.splits: dict[str, LabeledReviews] = {}
        self.datasets: dict[str, TokenizedReviews] = {}
        self._tokenizer: PreTrainedTokenizerBase | None = None

    @classmethod
    def from_config(cls, data: Mapping[str, Any], tokenizer: PreTrainedTokenizerBase | None = None
                    ) -> ReviewDataModule:
        """From the data group (``cfg.data``) with the seed and output folder the run filled in."""
        return cls(DataSettings.from_config(data), data.get("seed"), data.get("output_dir"), tokenizer)

    @property
    def tokenizer(self) -> PreTrainedTokenizerBase:
        if self._tokenizer is None:
            source = self.tokenizer_source
            if isinstance(source, PreTrainedTokenizerBase):
                self._tokenizer = source
            elif char_vocab_size(source):
                self._tokenizer = build_char_tokenizer(self.training_texts(f"data.tokenizer={source}"),
                                                       char_vocab_size(source))
                if self.output_dir is not None:
                    self._tokenizer.save_pretrained(self.output_dir / "char_tokenizer")
            else:
                self._tokenizer = load_tokenizer(source)
                if self.settings.prune_vocab:
                    self._tokenizer = prune_to_seen(self._tokenizer, self.training_texts("model.prune_vocab=true"))
        return self._tokenizer

    def training_texts(self, setting: str) -> list[str]:
        """The training split's texts, which a tokenizer built or pruned for this run is made from."""
        if "train" not in self.splits:
            raise ConfigError(f"{setting} builds the tokenizer from the training split: call setup() first.")
        return self.splits["train"].texts

    @property
    def multilabel(self) -> bool:
        """Several labels per review: sigmoid outputs, one 0/1 target per label (known once the data is read)."""
        return self.splits["train"].multilabel

    @property
    def train_label_ids(self) -> list[int]:
        """Label ids of the (resampled) training rows, e.g. for ``alpha: auto``; redrawn every epoch, those of the
        first draw (every draw has the same class counts)."""
        labels = self.datasets["train"].labels
        return [labels[i] for i in self.epoch_draw(0)] if self.epoch_draw else list(labels)

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        self.splits = self._split_reviews()
        self.labels = label_order(self.splits["train"])
        self._check_labels_known()
        check_resampling_task(self.settings.resampling.strategy, self.multilabel)
        if self.output_dir is not None:
            save_split(self.output_dir / SPLIT_JSON, {name: split.row_ids for name, split in self.splits.items()},
                       self.settings.path)
            write_label_conflicts(self.splits.values(), self.output_dir)
        if not self.settings.resampling.every_epoch:
            self.splits["train"] = self.splits["train"].take(self.resample(0))
        for name, split in self.splits.items():
            ids = tokenize_texts(self.tokenizer, split.texts, self.settings.max_length)
            if name == "train":
                require_known_pieces(ids, self.tokenizer, self.settings.path)
            self.datasets[name] = TokenizedReviews(ids, split.label_ids(self.labels))
        log.info("Split sizes: %s", {name: len(data) for name, data in self.datasets.items()})

    def resample(self, epoch: int) -> np.ndarray:
        """Positions of the clean training split to train on: its one draw (epoch 0), or a fresh draw each epoch
        with ``resampling.every_epoch`` (seeded by seed + epoch, so resumed runs redraw the same)."""
        resampling = self.settings.resampling
        return resample_indices(self.splits["train"].labels, resampling.strategy, resampling.sampling_strategy,
                                self.seed + epoch)

    @property
    def epoch_draw(self) -> Callable[[int], np.ndarray] | None:
        """What the training sampler draws from each epoch, when the training split is resampled every epoch."""
        return self.resample if self.settings.resampling.every_epoch else None

    def clean_splits(self) -> tuple[dict[str, LabeledReviews], list[str]]:
        """The clean train/val/test reviews (no resampling, no tokenizing) and the label order: what a baseline needs."""
        splits = self._split_reviews()
        return splits, label_order(splits["train"])

    def _split_reviews(self) -> dict[str, LabeledReviews]:
        settings = self.settings
        if settings.split_paths:
            splits = {name: self._read_clean(settings.split_paths[name]) for name in SPLITS}
            if any(split.multilabel for split in splits.values()):  # data.task=auto decides per file: one decides all
                splits = {name: split if split.multilabel else split.as_multilabel() for name, split in splits.items()}
            return splits
        reviews = self._read_clean(settings.path)
        if settings.min_class_count:
            reviews = drop_rare_classes(reviews, settings.min_class_count)
        if settings.split_file:
            positions = _positions_of(reviews.row_ids, load_split(settings.split_file), settings.split_file)
        else:
            val_size, test_size = settings.val_size, settings.test_size
            check_class_counts(reviews, val_size, test_size)
            positions = (iterative_split(reviews.label_ids(label_order(reviews)), val_size, test_size, self.seed)
                         if reviews.multilabel else stratified_split(reviews.labels, val_size, test_size, self.seed))
        return {name: reviews.take(index) for name, index in positions.items()}

    def _read_clean(self, path: str) -> LabeledReviews:
        settings = self.settings
        return read_labeled(path, settings.text_column, settings.label_column, settings.sheet_name, settings.encoding,
                            settings.sep, settings.label_spec)

    def _check_labels_known(self) -> None:
        """Val/test labels never seen in training cannot be predicted; say which ones."""
        for name in ("val", "test"):
            unknown = sorted(set(self.splits[name].label_counts.index) - set(self.labels))
            if unknown:
                raise DataError(f"The {name} split has label(s) {unknown} that never occur in the training split.")

    @property
    def collator(self) -> DataCollatorWithPadding:
        return DataCollatorWithPadding(self.tokenizer, padding="longest")

    def train_dataloader(self) -> DataLoader:
        dataset = self.datasets["train"]
        batch_size = self.settings.batch_size
        sampler = EpochSampler(dataset.lengths, batch_size, self.seed, self.settings.group_by_length,
                               draw=self.epoch_draw)
        return self._loader(dataset, batch_size, sampler)

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._eval_loader("test")

    def _eval_loader(self, name: str) -> DataLoader:
        dataset = self.datasets[name]
        return self._loader(dataset, self.settings.eval_batch_size, eval_sampler(dataset))

    def unsharded_loader(self, name: str) -> DataLoader:
        """Every review of split ``name`` in this process, also under DDP: what rank 0 calibrates and chooses
        thresholds on after the fit (the Trainer's val/test loaders give each rank a shard)."""
        return self._loader(self.datasets[name], self.settings.eval_batch_size, None)

    def _loader(self, dataset: TokenizedReviews, batch_size: int, sampler: Sampler[int] | None) -> DataLoader:
        return DataLoader(
            dataset, batch_size=batch_size, sampler=sampler, shuffle=False, collate_fn=self.collator,
            num_workers=self.settings.num_workers, persistent_workers=self.settings.num_workers > 0,
        )


def _label_sort_key(label: str) -> tuple[int, Any]:
    """Integer labels sort numerically (2 before 10), names alphabetically."""
    return (0, int(label)) if label.lstrip("-").isdigit() else (1, label)


def label_order(reviews: LabeledReviews) -> list[str]:
    """The model's label ids: every label of ``reviews`` (each label of a multi-label review), sorted."""
    return sorted(reviews.label_counts.index, key=_label_sort_key)


def _positions_of(row_ids: np.ndarray, split: dict[str, np.ndarray], split_file: str) -> dict[str, np.ndarray]:
    """Map a saved split's file row ids to positions in the cleaned reviews."""
    position = pd.Series(np.arange(len(row_ids)), index=row_ids)
    missing = [int(i) for name in SPLITS for i in split[name] if i not in position.index]
    if missing:
        raise DataError(f"Split file '{split_file}' names {len(missing)} row(s) not in the cleaned data (e.g. {missing[:5]}); "
                        "it was made from a different file.")
    return {name: position.loc[split[name]].to_numpy() for name in SPLITS}
