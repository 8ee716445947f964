"""Running counts for emerging issues and topics, folded in chunk by chunk so a million-row file costs what a small
one does: reviews per (category, window), reviews holding each phrase per (category, window) as one sparse matrix
with a capped phrase vocabulary, rating sums, and small uniform samples of reviews (per window for a flag's
examples, per category for its topics)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from review_cls.monitoring.phrases import phrases_of
from review_cls.monitoring.review_values import LeftOut, usable_ratings
from review_cls.monitoring.trend_settings import TrendSettings
from review_cls.monitoring.windows import NO_WINDOW, date_windows, version_values

log = logging.getLogger(__name__)
DATE, VERSION = "date", "version"
# characters of a review kept in the samples (the page shows up to this much)
KEPT_TEXT = 1000
# a cell is (axis, category, window): axis DATE (window: a period number) or VERSION (window: the version)
Cell = tuple[str, str, Hashable]


@dataclass
class Sampled:
    """A review kept in a sample, with the random key that decided it (the largest keys are kept)."""

    key: float
    row: int
    text: str
    rating: float
    version: str | None


@dataclass
class TrendCounts:
    """Per-category, per-window statistics of predicted reviews; ``update`` takes a chunk's predicted rows and
    their category (a multi-label review comes once per label it carries, with the same row number)."""

    settings: TrendSettings
    text_column: str
    date_column: str | None = None
    version_column: str | None = None
    rating_column: str | None = None
    reviews: Counter = field(default_factory=Counter)  # Cell -> reviews
    totals: Counter = field(default_factory=Counter)  # (axis, window) -> reviews of every category (counted once)
    rating_sum: Counter = field(default_factory=Counter)  # Cell -> sum of the valid ratings
    rating_count: Counter = field(default_factory=Counter)
    versions: dict[Cell, Counter] = field(default_factory=dict)  # date cell -> reviews per app version
    samples: dict[Cell, list[Sampled]] = field(default_factory=dict)
    topic_samples: dict[str, list[Sampled]] = field(default_factory=dict)
    category_reviews: Counter = field(default_factory=Counter)
    undated: int = 0  # reviews without a usable date (a blank cell included)
    unversioned: int = 0
    bad_dates: LeftOut = field(default_factory=LeftOut)  # dates given but not usable
    bad_ratings: LeftOut = field(default_factory=LeftOut)
    vocabulary: dict[str, int] = field(default_factory=dict)
    cells: dict[Cell, int] = field(default_factory=dict)  # Cell -> row of ``matrix``
    matrix: sparse.csr_matrix = field(default_factory=lambda: sparse.csr_matrix((0, 0), dtype=np.int32))
    seed: int = 0

    def __post_init__(self) -> None:
        self._random = np.random.default_rng(self.seed)

    @property
    def axes(self) -> list[str]:
        return [axis for axis, column in ((DATE, self.date_column), (VERSION, self.version_column)) if column]

    def update(self, rows: pd.DataFrame, labels: pd.Series) -> None:
        """Fold one chunk in: ``rows`` (index = input row number) with their ``labels`` (category names)."""
        if rows.empty:
            return
        labels = labels.astype(str).to_numpy()
        texts = rows[self.text_column].astype(str).to_numpy()
        ratings = self._ratings(rows)
        versions = (version_values(rows[self.version_column]).to_numpy(dtype=object, na_value=None)
                    if self.version_column else np.full(len(rows), None, dtype=object))
        keys = self._random.random(len(rows))
        self.category_reviews.update(Counter(labels))
        self._sample_topics(labels, keys, rows.index.to_numpy(), texts)
        windows = {axis: self._windows(axis, rows, versions) for axis in self.axes}
        if not windows:
            return
        phrases = self._phrase_matrix(texts)
        for axis, window in windows.items():
            self._count_axis(axis, window, labels, rows.index.to_numpy(), ratings, versions, keys, texts, phrases)
        if len(self.vocabulary) > 2 * self.settings.max_phrases:
            self._prune()

    def _ratings(self, rows: pd.DataFrame) -> np.ndarray:
        if not self.rating_column:
            return np.full(len(rows), np.nan)
        values = usable_ratings(rows[self.rating_column], self.settings.rating_range)
        self.bad_ratings.add(rows[self.rating_column], np.isnan(values))
        return values

    def _windows(self, axis: str, rows: pd.DataFrame, versions: np.ndarray) -> np.ndarray:
        """The window of each row on ``axis`` as an object array, None where it has none."""
        if axis == VERSION:
            self.unversioned += int(pd.isna(versions).sum())
            return versions
        ordinals = date_windows(rows[self.date_column], self.settings.period)
        missing = ordinals == NO_WINDOW
        self.undated += int(missing.sum())
        self.bad_dates.add(rows[self.date_column], missing)
        return np.where(missing, None, ordinals.astype(object))

    def _phrase_matrix(self, texts: np.ndarray) -> sparse.csr_matrix:
        """Reviews x vocabulary, 1 where a review holds a phrase; new phrases join the vocabulary."""
        indptr, indices = [0], []
        vocabulary = self.vocabulary
        for text in texts:
            indices.extend(vocabulary.setdefault(phrase, len(vocabulary)) for phrase in phrases_of(text))
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.int32)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(texts), len(vocabulary)))

    def _count_axis(self, axis: str, window: np.ndarray, labels: np.ndarray, row_numbers: np.ndarray,
                    ratings: np.ndarray, versions: np.ndarray, keys: np.ndarray, texts: np.ndarray,
                    phrases: sparse.csr_matrix) -> None:
        present = np.flatnonzero(pd.notna(window))
        if not present.size:
            return
        frame = pd.DataFrame({"window": window[present], "label": labels[present], "row": row_numbers[present],
                              "rating": ratings[present], "position": present})
        for window_value, reviews in frame.groupby("window", sort=False)["row"]:
            self.totals[(axis, window_value)] += reviews.nunique()
        cell_rows = np.empty(len(frame), dtype=np.int64)
        for (window_value, label), group in frame.groupby(["window", "label"], sort=False):
            cell = (axis, label, window_value)
            self.reviews[cell] += len(group)
            rated = group["rating"].dropna()
            self.rating_sum[cell] += float(rated.sum())
            self.rating_count[cell] += len(rated)
            cell_rows[group.index.to_numpy()] = self.cells.setdefault(cell, len(self.cells))
            at = group["position"].to_numpy()
            if axis == DATE and self.version_column:
                self.versions.setdefault(cell, Counter()).update(v for v in versions[at] if v is not None)
            self._sample(self.samples.setdefault(cell, []), self.settings.window_sample, keys[at],
                         group["row"].to_numpy(), texts[at], ratings[at], versions[at])
        indicator = sparse.csr_matrix((np.ones(len(frame), dtype=np.int32), (cell_rows, present)),
                                      shape=(len(self.cells), phrases.shape[0]))
        self._add(indicator @ phrases)

    def _add(self, counts: sparse.csr_matrix) -> None:
        shape = (len(self.cells), len(self.vocabulary))
        self.matrix.resize(shape)
        counts.resize(shape)
        self.matrix = (self.matrix + counts).tocsr()

    def _sample_topics(self, labels: np.ndarray, keys: np.ndarray, row_numbers: np.ndarray, texts: np.ndarray) -> None:
        for label in np.unique(labels):
            at = np.flatnonzero(labels == label)
            self._sample(self.topic_samples.setdefault(str(label), []), self.settings.topic_sample, keys[at],
                         row_numbers[at], texts[at], np.full(len(at), np.nan), np.full(len(at), None))

    @staticmethod
    def _sample(kept: list[Sampled], size: int, keys: np.ndarray, rows: np.ndarray, texts: np.ndarray,
                ratings: np.ndarray, versions: np.ndarray) -> None:
        """Keep the ``size`` reviews with the largest random keys seen so far: a uniform sample of the stream."""
        if not size:
            return
        floor = min(s.key for s in kept) if len(kept) >= size else -1.0
        best = [i for i in np.argsort(-keys)[:size] if keys[i] > floor]
        kept.extend(Sampled(float(keys[i]), int(rows[i]), str(texts[i])[:KEPT_TEXT], float(ratings[i]),
                            versions[i]) for i in best)
        if len(kept) > size:
            kept.sort(key=lambda s: -s.key)
            del kept[size:]

    def _prune(self) -> None:
        """Keep the ``max_phrases`` phrases with the highest count in any one window (a burst keeps its phrase)."""
        peak = self.matrix.max(axis=0).toarray().ravel() if self.matrix.shape[0] else np.zeros(len(self.vocabulary))
        keep = np.sort(np.argsort(-peak, kind="stable")[: self.settings.max_phrases])
        self.vocabulary = {str(phrase): i for i, phrase in enumerate(self.phrase_names()[keep])}
        self.matrix = self.matrix[:, keep].tocsr()
        log.debug("Phrase vocabulary pruned to %d phrases.", len(keep))

    def phrase_names(self) -> np.ndarray:
        """The vocabulary's phrases by column of ``matrix``."""
        names = np.empty(len(self.vocabulary), dtype=object)
        for phrase, index in self.vocabulary.items():
            names[index] = phrase
        return names

    def mean_rating(self, cells: list[Cell]) -> float:
        """Mean of the valid ratings over ``cells`` (NaN without any)."""
        count = sum(self.rating_count[cell] for cell in cells)
        return sum(self.rating_sum[cell] for cell in cells) / count if count else float("nan")
