"""Tokenize once per split and batch reviews of similar length, so short reviews are not padded to max_length."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from review_cls.errors import DataError

log = logging.getLogger(__name__)


class PackedTokenIds(Sequence[list[int]]):
    """Token ids of many texts in one flat array (uint16 when the vocab fits, else int32) plus offsets.

    Python lists cost ~36 bytes per token (an int object and a pointer); this costs 2 or 4, plus 8 per text. On 62k
    Chinese reviews the lists were most of the data module's memory (bench/cost_growth.py).
    """

    def __init__(self, flat: np.ndarray, offsets: np.ndarray) -> None:
        self.flat = flat
        self.offsets = offsets

    @classmethod
    def from_lists(cls, chunks: Iterable[list[list[int]]], vocab_size: int) -> PackedTokenIds:
        """Pack chunks of per-text id lists, converting each chunk before the next one is made."""
        dtype = np.uint16 if vocab_size <= np.iinfo(np.uint16).max + 1 else np.int32
        flats, lengths = [np.empty(0, dtype=dtype)], [np.empty(0, dtype=np.int64)]
        for ids in chunks:
            lengths.append(np.fromiter(map(len, ids), dtype=np.int64, count=len(ids)))
            flats.append(np.fromiter(chain.from_iterable(ids), dtype=dtype, count=int(lengths[-1].sum())))
        offsets = np.concatenate([[0], np.cumsum(np.concatenate(lengths))]).astype(np.int64)
        return cls(np.concatenate(flats), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, index: int) -> list[int]:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(f"text {index} of {len(self)}")
        index %= len(self)
        return self.flat[self.offsets[index] : self.offsets[index + 1]].tolist()

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


class TokenizedReviews(Dataset):
    """Token ids of one split, tokenized once up front; padding happens per batch in the collator."""

    def __init__(self, input_ids: PackedTokenIds, labels: Sequence[int] | None = None) -> None:
        if labels is not None and len(labels) != len(input_ids):
            raise ValueError(f"{len(input_ids)} texts but {len(labels)} labels")
        self.input_ids = input_ids
        # class ids (int64), or rows of 0/1 per label (float32) for a multi-label task
        self.labels = None if labels is None else np.asarray(labels)
        if self.labels is not None and self.labels.ndim == 1:
            self.labels = self.labels.astype(np.int64)

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, index: int) -> dict[str, list[int] | list[float] | int]:
        item: dict[str, list[int] | list[float] | int] = {"input_ids": self.input_ids[index]}
        if self.labels is not None:
            item["labels"] = self.labels[index].tolist()
        return item

    @property
    def lengths(self) -> np.ndarray:
        return self.input_ids.lengths


def tokenize_texts(tokenizer, texts: list[str], max_length: int, chunk_size: int = 2048) -> PackedTokenIds:
    """Fast-tokenize a split ``chunk_size`` texts per call; truncate at ``max_length``, no padding.

    Chunks because a fast tokenizer's per-call output (an Encoding with tokens, offsets and masks per text) is many
    times the size of the ids we keep: one call over 62k reviews peaked at ~3.4x the memory of 2,048-text chunks
    (bench/cost_growth.py), with the same ids.
    """
    chunks = (
        tokenizer(
            texts[start : start + chunk_size], truncation=True, max_length=max_length, padding=False,
            return_attention_mask=False, return_token_type_ids=False,
        )["input_ids"]
        for start in range(0, len(texts), chunk_size)
    )
    ids = PackedTokenIds.from_lists(chunks, len(tokenizer))
    warn_unknown_only(ids, tokenizer, texts)
    return ids


def unknown_only(ids: PackedTokenIds, tokenizer) -> np.ndarray:
    """Per text: it holds no piece the tokenizer knows (every piece is [UNK] or a special token)."""
    known = ~np.isin(ids.flat, np.asarray(tokenizer.all_special_ids, dtype=np.int64))
    counts = np.concatenate([[0], np.cumsum(known)])
    return counts[ids.offsets[1:]] == counts[ids.offsets[:-1]]


def warn_unknown_only(ids: PackedTokenIds, tokenizer, texts: list[str]) -> None:
    """Reviews the model reads nothing in (emoji only, a script the vocabulary lacks) get labels that rest on
    nothing: say how many, with an example."""
    unknown = np.flatnonzero(unknown_only(ids, tokenizer))
    if len(unknown):
        log.warning("%d of %d review(s) hold no piece the tokenizer knows (all [UNK]: emoji only, or a script its "
                    "vocabulary lacks), e.g. %r: the model reads nothing in them, so what it says of them rests on "
                    "nothing.", len(unknown), len(texts), texts[unknown[0]][:60])


def require_known_pieces(ids: PackedTokenIds, tokenizer, source: str) -> None:
    """A training split whose every review is all [UNK] trains a model that has seen no word."""
    if len(ids) and unknown_only(ids, tokenizer).all():
        raise DataError(f"None of the {len(ids)} training reviews of '{source}' holds a piece the tokenizer knows "
                        "(all [UNK]): the model would learn from no word. Use a tokenizer for the reviews' script "
                        "(model=e5_small, or data.tokenizer=char_vocab:6000), or check data.text_column.")


class EpochSampler(Sampler[int]):
    """Shuffled order that depends only on (seed, epoch), optionally grouped so neighbours have similar lengths.

    With ``group_by_length`` the shuffled indices are cut into mega-batches of up to ``mega_batch_factor`` batches
    (at most a quarter of the epoch, so small datasets still get fresh batches every epoch), each mega-batch is
    sorted by length and cut into batches, and the order of those batches is shuffled. Consecutive ``batch_size``
    slices then need little padding while batch composition and order stay random. Depending only on
    (seed, epoch) makes a resumed run see exactly the batches of an uninterrupted one.

    ``draw(epoch)``, when given, picks the positions of each epoch (undersampling redrawn every epoch, so over the
    run every training review is seen, where one draw at setup never shows the reviews it left out).
    """

    def __init__(
        self, lengths: Sequence[int], batch_size: int, seed: int = 0,
        group_by_length: bool = True, mega_batch_factor: int = 50,
        draw: Callable[[int], np.ndarray] | None = None,
    ) -> None:
        self.lengths = torch.as_tensor(lengths)
        self.batch_size = batch_size
        self.draw = draw
        self.size = len(self.lengths) if draw is None else len(draw(0))
        batches_per_epoch = max(self.size // batch_size, 1)
        self.mega_batch_size = batch_size * min(mega_batch_factor, max(batches_per_epoch // 4, 1))
        self.group_by_length = group_by_length
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.size

    def epoch_positions(self) -> torch.Tensor:
        """The dataset positions this epoch draws from: all of them, or ``draw(epoch)`` (a fresh resample)."""
        if self.draw is None:
            return torch.arange(len(self.lengths))
        return torch.as_tensor(np.asarray(self.draw(self.epoch)), dtype=torch.long)

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        positions = self.epoch_positions()
        order = positions[torch.randperm(len(positions), generator=generator)]
        if not self.group_by_length:
            yield from order.tolist()
            return
        batches: list[torch.Tensor] = []
        for mega_batch in order.split(self.mega_batch_size):
            by_length = torch.argsort(self.lengths[mega_batch], descending=True, stable=True)
            batches.extend(mega_batch[by_length].split(self.batch_size))
        # full batches in random order; a short remainder (only the very last one) stays last to keep alignment
        full = [batch for batch in batches if len(batch) == self.batch_size]
        rest = [batch for batch in batches if len(batch) < self.batch_size]
        for position in torch.randperm(len(full), generator=generator).tolist():
            yield from full[position].tolist()
        for batch in rest:
            yield from batch.tolist()
