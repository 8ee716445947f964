"""Uncertainty scores, k-means representatives and per-class quotas on made-up probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from review_cls.labeling.strategies import (
    cluster_representatives,
    pick,
    predicted_labels,
    preference_order,
    uncertainty,
)

# sure, torn between two classes, spread over three
PROBABILITIES = np.array([[0.90, 0.05, 0.05], [0.50, 0.49, 0.01], [0.40, 0.30, 0.30]])


def test_the_strategies_disagree_where_they_should():
    assert uncertainty(PROBABILITIES, "least_confidence", 0) == pytest.approx([0.10, 0.50, 0.60])
    assert uncertainty(PROBABILITIES, "margin", 0) == pytest.approx([0.15, 0.99, 0.90])
    entropy = [-sum(p * np.log(p) for p in row) for row in PROBABILITIES]
    assert uncertainty(PROBABILITIES, "entropy", 0) == pytest.approx(entropy)
    assert np.argmax(uncertainty(PROBABILITIES, "margin", 0)) == 1  # the two-way tie, not the three-way spread
    assert np.argmax(uncertainty(PROBABILITIES, "entropy", 0)) == 2


def test_random_is_a_seeded_draw():
    assert uncertainty(PROBABILITIES, "random", 3) == pytest.approx(uncertainty(PROBABILITIES, "random", 3))
    assert not np.allclose(uncertainty(PROBABILITIES, "random", 3), uncertainty(PROBABILITIES, "random", 4))


def test_each_cluster_gives_its_most_uncertain_review():
    rng = np.random.default_rng(0)
    features = np.concatenate([rng.normal(0, 0.01, (10, 2)), rng.normal(5, 0.01, (10, 2))])
    scores = np.arange(20, dtype=float)[::-1] / 20  # row 0 most uncertain overall, row 10 of the second blob
    clusters, first = cluster_representatives(features, scores, 2, seed=0)
    assert sorted(first.tolist()) == [0, 10] and first.tolist() == [0, 10]
    assert len(set(clusters[:10])) == len(set(clusters[10:])) == 1 != len(set(clusters))
    order = preference_order(scores, first)
    assert order[:3].tolist() == [0, 10, 1] and sorted(order.tolist()) == list(range(20))


def test_the_quota_reserves_picks_for_every_predicted_class():
    predicted = np.eye(3, dtype=bool)[[0] * 8 + [1] * 3 + [2]]
    order = np.arange(12)  # the class-0 reviews are the most uncertain
    assert pick(order, predicted, 4, 0).tolist() == [0, 1, 2, 3]
    assert pick(order, predicted, 4, 1).tolist() == [0, 1, 8, 11]
    assert pick(order, predicted, 6, 2).tolist() == [0, 1, 2, 8, 9, 11]  # class 2 has only one review


# three labels with thresholds 0.5, 0.3, 0.8: sure of every call; a label at its threshold; confidently no label;
# two labels near their thresholds from either side
THRESHOLDS = np.array([0.5, 0.3, 0.8])
SIGMOIDS = np.array([[0.99, 0.01, 0.99], [0.05, 0.30, 0.02], [0.01, 0.01, 0.01], [0.45, 0.33, 0.10]])


def test_a_multi_label_review_is_as_uncertain_as_its_closest_call_to_a_threshold():
    for strategy in ("least_confidence", "margin"):
        scores = uncertainty(SIGMOIDS, strategy, 0, THRESHOLDS)
        assert scores[1] == pytest.approx(1.0)  # a label exactly at its threshold
        assert scores[3] == pytest.approx(1 - 0.03 / 0.7)  # 0.33 is 0.03 of the 0.7 above 0.3
        assert scores[0] < 0.1 and scores[2] < 0.1  # sure yes, sure no: not worth a label
        assert np.argsort(-scores).tolist()[:2] == [1, 3]
    # 1 - max sigmoid would rank the review that confidently carries no label first
    assert np.argmax(uncertainty(SIGMOIDS, "least_confidence", 0)) == 2
    entropy = uncertainty(SIGMOIDS, "entropy", 0, THRESHOLDS)
    assert entropy[0] == pytest.approx(entropy[2]) and entropy[2] < entropy[1] < entropy[3]


def test_a_multi_label_review_is_predicted_every_label_at_its_threshold_and_counts_for_each_in_the_quota():
    predicted = predicted_labels(SIGMOIDS, THRESHOLDS)
    assert predicted.tolist() == [[True, False, True], [False, True, False], [False] * 3, [False, True, False]]
    assert predicted_labels(PROBABILITIES).tolist() == [[True, False, False]] * 3
    # label 2 only on review 0, label 1 first on review 1: one each reserved, then the most uncertain
    assert pick(np.array([2, 3, 1, 0]), predicted, 3, 1).tolist() == [2, 3, 0]
