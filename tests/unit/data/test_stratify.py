"""Iterative stratification keeps every label's share in train/val/test closer to the whole than a random split."""

from __future__ import annotations

import numpy as np

from review_cls.data.stratify import iterative_split


def skewed_labels(rows: int = 600, seed: int = 0) -> np.ndarray:
    """Six labels from common (40%) to rare (2%), drawn independently, so many rows have 2+ labels and some none."""
    rates = np.array([0.4, 0.25, 0.15, 0.08, 0.04, 0.02])
    return (np.random.default_rng(seed).random((rows, len(rates))) < rates).astype(np.float32)


def share_error(indicator: np.ndarray, positions: dict[str, np.ndarray]) -> float:
    """Mean absolute gap between each label's share in a split and in the whole, over splits and labels."""
    whole = indicator.mean(axis=0)
    return float(np.mean([np.abs(indicator[index].mean(axis=0) - whole) for index in positions.values()]))


def test_every_row_lands_in_exactly_one_split_of_about_the_asked_size():
    labels = skewed_labels()
    positions = iterative_split(labels, 0.15, 0.15, seed=1)
    together = np.concatenate(list(positions.values()))
    assert sorted(together.tolist()) == list(range(len(labels)))
    assert abs(len(positions["val"]) - 90) <= 3 and abs(len(positions["test"]) - 90) <= 3


def test_label_shares_closer_to_the_whole_than_random_splits():
    labels = skewed_labels()
    rng = np.random.default_rng(7)
    random_errors = []
    for _ in range(20):
        order = rng.permutation(len(labels))
        random_errors.append(share_error(labels, {"train": order[180:], "val": order[:90], "test": order[90:180]}))
    stratified = np.mean([share_error(labels, iterative_split(labels, 0.15, 0.15, seed)) for seed in range(5)])
    assert stratified < 0.5 * np.mean(random_errors)


def test_rare_label_reaches_every_split_and_the_split_is_seeded():
    labels = skewed_labels()
    positions = iterative_split(labels, 0.15, 0.15, seed=3)
    assert all(labels[index, 5].sum() >= 1 for index in positions.values())
    again = iterative_split(labels, 0.15, 0.15, seed=3)
    assert all(np.array_equal(positions[name], again[name]) for name in positions)
