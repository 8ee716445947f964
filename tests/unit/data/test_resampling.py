"""Train-split resampling with imbalanced-learn."""

from __future__ import annotations

from collections import Counter

from review_cls.data.resampling import resample_indices


def test_undersample_balances_and_oversample_repeats():
    labels = ["a"] * 30 + ["b"] * 10 + ["c"] * 5
    kept = resample_indices(labels, "undersample", "auto", seed=0)
    assert Counter(labels[i] for i in kept) == {"a": 5, "b": 5, "c": 5}
    grown = resample_indices(labels, "oversample", "auto", seed=0)
    assert Counter(labels[i] for i in grown) == {"a": 30, "b": 30, "c": 30}
    partial = resample_indices(labels, "undersample", {"a": 12}, seed=0)
    assert Counter(labels[i] for i in partial) == {"a": 12, "b": 10, "c": 5}
    assert resample_indices(labels, "none").tolist() == list(range(45))
