"""Iterative stratification (Sechidis, Tsoumakas and Vlahavas 2011) for multi-label train/val/test splits.

A stratified split needs one class per row; with several labels per review, iterative stratification hands out the
reviews of the rarest remaining label first, each to the split that still lacks most of that label, so every label
(rare ones above all) keeps close to its share in every split. About 25 lines, so no new dependency.
"""

from __future__ import annotations

import numpy as np

from review_cls.data.prepare import SPLITS


def iterative_split(indicator: np.ndarray, val_size: float, test_size: float, seed: int) -> dict[str, np.ndarray]:
    """Seeded positions of the rows of ``indicator`` (N x L, 0/1) for train, val and test, sorted.

    Rows without any label ("none of these") go, at the end, to the split furthest below its size.
    """
    labels = np.asarray(indicator, dtype=bool)
    rng = np.random.default_rng(seed)
    ratios = np.array([1.0 - val_size - test_size, val_size, test_size])
    wanted_rows = ratios * len(labels)
    wanted_labels = np.outer(ratios, labels.sum(axis=0)).astype(float)
    assigned = np.full(len(labels), -1, dtype=np.int64)
    remaining = labels.copy()
    while remaining.any():
        counts = remaining.sum(axis=0).astype(float)
        counts[counts == 0] = np.inf
        label = rng.choice(np.flatnonzero(counts == counts.min()))
        for row in rng.permutation(np.flatnonzero(remaining[:, label])):
            split = _pick(wanted_labels[:, label], wanted_rows, rng)
            assigned[row] = split
            wanted_labels[split] -= labels[row]
            wanted_rows[split] -= 1
            remaining[row] = False
    for row in rng.permutation(np.flatnonzero(assigned < 0)):
        split = _pick(wanted_rows, wanted_rows, rng)
        assigned[row] = split
        wanted_rows[split] -= 1
    return {name: np.flatnonzero(assigned == index) for index, name in enumerate(SPLITS)}


def _pick(primary: np.ndarray, secondary: np.ndarray, rng: np.random.Generator) -> int:
    """The split wanting most of ``primary``; ties by most of ``secondary``, then at random."""
    best = np.flatnonzero(primary == primary.max())
    best = best[secondary[best] == secondary[best].max()]
    return int(rng.choice(best))
