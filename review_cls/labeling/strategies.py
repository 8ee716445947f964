"""Which unlabeled reviews to label next: an uncertainty score per review (single- or multi-label), an optional spread
over k-means clusters, and a minimum number of picks per predicted class, so rare classes get examples too."""

from __future__ import annotations

import numpy as np

STRATEGIES = ("least_confidence", "margin", "entropy", "random")


def uncertainty(probabilities: np.ndarray, strategy: str, seed: int,
                thresholds: np.ndarray | None = None) -> np.ndarray:
    """Higher = more worth labeling: ``1 - p_max`` (least_confidence), ``1 - (p_first - p_second)`` (margin), the
    entropy of the probabilities (entropy), or a seeded uniform draw (random, the baseline the others must beat).

    A multi-label model (``thresholds``, one per label) makes one yes/no call per label, so a review is as uncertain
    as its closest call: least_confidence and margin score ``1 -`` the smallest distance of any label's probability
    to its threshold (as a share of the way to 0 or 1, so a label at its threshold scores 1 and a sure yes or no 0);
    entropy sums the labels' yes/no entropies. A review that confidently carries no label scores low."""
    if strategy == "random":
        return np.random.default_rng(seed).random(len(probabilities))
    if thresholds is not None:
        return multilabel_uncertainty(probabilities, strategy, thresholds)
    if strategy == "least_confidence":
        return 1.0 - probabilities.max(axis=1)
    if strategy == "margin":
        top_two = np.sort(probabilities, axis=1)[:, -2:]
        return 1.0 - (top_two[:, 1] - top_two[:, 0])
    clipped = np.clip(probabilities, 1e-12, 1.0)
    return -(probabilities * np.log(clipped)).sum(axis=1)


def multilabel_uncertainty(probabilities: np.ndarray, strategy: str, thresholds: np.ndarray) -> np.ndarray:
    if strategy == "entropy":
        clipped = np.clip(probabilities, 1e-12, 1 - 1e-12)
        return -(clipped * np.log(clipped) + (1 - clipped) * np.log(1 - clipped)).sum(axis=1)
    room = np.where(probabilities >= thresholds, 1.0 - thresholds, thresholds)
    distance = np.abs(probabilities - thresholds) / np.maximum(room, 1e-12)
    return 1.0 - np.clip(distance, 0.0, 1.0).min(axis=1)


def predicted_labels(probabilities: np.ndarray, thresholds: np.ndarray | None = None) -> np.ndarray:
    """N x L booleans, the labels the model gives each review: the most probable one (single-label), or every label
    at or above its threshold (multi-label, maybe none)."""
    if thresholds is not None:
        return probabilities >= thresholds
    return np.eye(probabilities.shape[1], dtype=bool)[probabilities.argmax(axis=1)]


def most_uncertain_first(scores: np.ndarray) -> np.ndarray:
    """Positions by decreasing score; ties keep the file's order."""
    return np.argsort(-scores, kind="stable")


def cluster_representatives(features: np.ndarray, scores: np.ndarray, clusters: int, seed: int) -> tuple[np.ndarray,
                                                                                                         np.ndarray]:
    """sklearn KMeans with ``clusters`` clusters on ``features``; returns each review's cluster and the most
    uncertain review of every cluster, most uncertain first: picks that are not all the same kind of doubt."""
    from sklearn.cluster import KMeans

    assignment = KMeans(n_clusters=clusters, random_state=seed, n_init="auto").fit_predict(features)
    order = most_uncertain_first(scores)
    _, first = np.unique(assignment[order], return_index=True)
    return assignment, order[np.sort(first)]


def preference_order(scores: np.ndarray, first: np.ndarray | None = None) -> np.ndarray:
    """Every review once: ``first`` (e.g. the cluster representatives) in its order, then the rest, most uncertain
    first."""
    order = most_uncertain_first(scores)
    if first is None:
        return order
    return np.concatenate([first, order[~np.isin(order, first)]])


def pick(order: np.ndarray, predicted: np.ndarray, n: int, per_class: int) -> np.ndarray:
    """The first ``n`` reviews of ``order``, after reserving the first ``per_class`` predicted as each class
    (``predicted``: N x L booleans, :func:`predicted_labels`; fewer when the pool has fewer); returned in
    ``order``'s order."""
    reserved = np.zeros(len(order), dtype=bool)  # by position in ``order``
    if per_class:
        for label in range(predicted.shape[1]):
            reserved[np.flatnonzero(predicted[order, label])[:per_class]] = True
    rest = np.flatnonzero(~reserved)[: max(n - int(reserved.sum()), 0)]
    reserved[rest] = True
    return order[reserved]
