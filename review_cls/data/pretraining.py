"""What masked-LM pretraining reads: a review file's clean texts, never the val/test texts of the split a later
fine-tune reports, tokenized once, batched by length and masked per batch."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader
from transformers import DataCollatorForLanguageModeling, PreTrainedTokenizerBase

from review_cls.data.batching import EpochSampler, TokenizedReviews, tokenize_texts
from review_cls.data.datamodule import ReviewDataModule
from review_cls.data.io import read_table
from review_cls.data.prepare import blank_labels, clean_reviews
from review_cls.errors import ConfigError, DataError
from review_cls.utils.settings import number

log = logging.getLogger(__name__)


def pretraining_texts(data: ReviewDataModule) -> list[str]:
    """The training split's texts when the file has ``data.label_column`` (the split a fine-tune with the same data
    settings and seed uses, so its val/test reviews stay unseen); every clean text of a file without labels."""
    settings = data.settings
    if not settings.split_paths:
        frame = read_table(settings.path, settings.sheet_name, settings.encoding)
        label_column = settings.label_column
        if label_column not in frame.columns or blank_labels(frame[label_column]).any():
            texts = clean_reviews(frame, settings.text_column, None, str(settings.path)).texts
            log.info("'%s' has no label column '%s', or blanks in it (a file not fully labeled, which no fine-tune "
                     "splits): pretraining on all %d clean texts.", settings.path, label_column, len(texts))
            return texts
    splits, _ = data.clean_splits()
    log.info("Pretraining on the %d texts of the training split (val %d and test %d reviews left out).",
             len(splits["train"]), len(splits["val"]), len(splits["test"]))
    return splits["train"].texts


class MaskedReviewsDataModule(L.LightningDataModule):
    """Texts in length-grouped batches, masked per batch (BERT's recipe: 15% of tokens, 80% [MASK], 10% random,
    10% kept); ``holdout`` of them, drawn with ``seed``, score the masked-LM loss after every epoch."""

    def __init__(self, texts: list[str], tokenizer: PreTrainedTokenizerBase, max_length: int, batch_size: int,
                 eval_batch_size: int, seed: int, holdout: float = 0.05, mlm_probability: float = 0.15,
                 group_by_length: bool = True) -> None:
        super().__init__()
        if len(texts) < 2:
            raise DataError(f"Masked-LM pretraining needs at least 2 texts, got {len(texts)}.")
        self.texts = texts
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.seed = seed
        self.holdout = holdout
        self.mlm_probability = mlm_probability
        self.group_by_length = group_by_length
        self.train_dataset: TokenizedReviews | None = None
        self.val_batches: list[dict[str, torch.Tensor]] = []

    def setup(self, stage: str | None = None) -> None:
        if self.train_dataset is not None:
            return
        order = np.random.default_rng(self.seed).permutation(len(self.texts))
        held_out = max(1, round(self.holdout * len(self.texts)))
        if held_out >= len(self.texts):
            raise ConfigError(f"mlm.holdout={self.holdout} holds out all {len(self.texts)} texts: none is left to "
                              "pretrain on. Lower mlm.holdout (e.g. 0.05) or give more texts.")
        self.train_dataset = self._tokenized(order[held_out:])
        # masked once: every epoch's validation loss is measured on the same masked tokens, so epochs compare fairly
        held_out_texts = self._tokenized(order[:held_out])
        mask = self._collator(seed=self.seed)
        self.val_batches = [
            mask([held_out_texts[i] for i in range(start, min(start + self.eval_batch_size, len(held_out_texts)))])
            for start in range(0, len(held_out_texts), self.eval_batch_size)
        ]
        self._check_maskable(held_out_texts)
        log.info("Masked-LM texts: %d to train on, %d held out.", len(self.train_dataset), len(held_out_texts))

    def _check_maskable(self, held_out: TokenizedReviews) -> None:
        """Stop when nothing can be masked: an inf held-out loss would pick an untrained 'best' checkpoint."""
        unmaskable = set(self.tokenizer.all_special_ids)  # [UNK] included: the collator never masks those
        words = sum(1 for dataset in (self.train_dataset, held_out) for i in range(len(dataset))
                    for token in dataset[i]["input_ids"] if token not in unmaskable)
        if words == 0:
            raise DataError(
                f"None of the {len(self.texts)} texts has a token the tokenizer knows (all [UNK] or special), so "
                "masked-LM pretraining has nothing to mask. Use a tokenizer for the texts' script, e.g. "
                "data.tokenizer=char_vocab:6000, or check data.text_column.")
        if not any(bool((batch["labels"] != -100).any()) for batch in self.val_batches):
            raise DataError(
                f"The {len(held_out)} held-out text(s) got no masked token to score the masked-LM loss on: raise "
                "mlm.holdout (more held-out texts) or mlm.probability.")

    def train_dataloader(self) -> DataLoader:
        sampler = EpochSampler(self.train_dataset.lengths, self.batch_size, self.seed, self.group_by_length)
        return DataLoader(self.train_dataset, batch_size=self.batch_size, sampler=sampler, collate_fn=self._collator())

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_batches, batch_size=None)

    def _tokenized(self, positions: np.ndarray) -> TokenizedReviews:
        return TokenizedReviews(tokenize_texts(self.tokenizer, [self.texts[i] for i in np.sort(positions)],
                                               self.max_length))

    def _collator(self, seed: int | None = None) -> DataCollatorForLanguageModeling:
        return DataCollatorForLanguageModeling(self.tokenizer, mlm_probability=self.mlm_probability, seed=seed)


def check_masking_settings(mlm: Mapping[str, Any], from_scratch: bool) -> None:
    """Impossible masking settings (the ``mlm`` group of conf/pretrain.yaml) fail before any data is read."""
    if not 0 < number(mlm, "mlm", "holdout") < 1:
        raise ConfigError(f"mlm.holdout must be in (0, 1), got {mlm['holdout']}.")
    if not 0 < number(mlm, "mlm", "probability") < 1:
        raise ConfigError(f"mlm.probability must be in (0, 1), got {mlm['probability']}.")
    if mlm["module"]["train_only_embeddings"] and from_scratch:
        raise ConfigError("mlm.module.train_only_embeddings=true keeps a pretrained body fixed: it needs "
                          "model.from_scratch=false.")
