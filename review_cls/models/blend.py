"""The model blended with its TF-IDF baseline: ``w * p_model + (1 - w) * p_tfidf``, the model's share ``w`` chosen on
the validation split only.

Rules for ``w`` (a grid 0, 0.05, ..., 1):

- ``f1``: the best validation macro-F1 (multi-label: at the per-label thresholds chosen for that ``w``);
- ``log_loss``: the lowest validation log-loss (multi-label: the mean binary cross-entropy over labels);
- ``fixed``: 0.5, whatever validation says (:func:`blend_at` gives any other fixed weight).

Small validation splits are noisy, and a curve is often flat near its best: a few reviews decide which grid point
wins. So every grid point within a tolerance of the best score counts as a tie (``F1_TOLERANCE``: half a point of
macro-F1; ``LOG_LOSS_TOLERANCE``: 0.002 nats), and among the ties the one nearest 0.5 is kept; between two points
equally near 0.5 (0.45 and 0.55), the one with the better score, then the larger model share. The choice moves away
from the even blend only when validation says so by more than its noise.

Multi-label: one ``w`` for every label; each label's threshold is then chosen on the blended validation probabilities
(:func:`~review_cls.models.threshold_choice.choose_thresholds`, as for the model alone).

What a checkpoint (its top-level ``blend`` key) or an export (its ``config.json``) records about the blend it ships is
a :class:`BlendRecord`: plain values, so a checkpoint still loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from review_cls.errors import CheckpointError
from review_cls.models.threshold_choice import choose_thresholds, per_label_f1

WEIGHT_GRID = np.round(np.arange(0.0, 1.0001, 0.05), 2)
RULES = ("f1", "log_loss", "fixed")
FIXED_WEIGHT = 0.5
F1_TOLERANCE = 0.005
LOG_LOSS_TOLERANCE = 0.002
TOLERANCES = {"f1": F1_TOLERANCE, "log_loss": LOG_LOSS_TOLERANCE}
# the smallest probability a log-loss reads (a TF-IDF or model probability of exactly 0 would be an infinite loss)
PROBABILITY_FLOOR = 1e-15
# the tested best checkpoint's top-level key holding its BlendRecord
CHECKPOINT_KEY = "blend"
# the rows of a blend's test scores: the model alone, TF-IDF alone, the blend
SCORE_ROWS = ("model", "tfidf", "blend")


@dataclass(frozen=True)
class Blend:
    """The model's share ``weight`` of the blended probabilities, the rule that chose it, and (multi-label) the
    per-label thresholds chosen on the blended validation probabilities; ``scores``: the validation score of every
    grid weight under the rule (higher is better: log-loss negated), for reports."""

    weight: float
    rule: str
    thresholds: np.ndarray | None = None
    scores: dict[float, float] = field(default_factory=dict, compare=False)

    def probabilities(self, model: np.ndarray, tfidf: np.ndarray) -> np.ndarray:
        return blend(model, tfidf, self.weight)

    def to_dict(self) -> dict[str, Any]:
        """Plain numbers for a checkpoint's hyperparameters, ``metrics.json`` or an export's config."""
        thresholds = None if self.thresholds is None else [float(value) for value in self.thresholds]
        return {"weight": float(self.weight), "rule": self.rule, "thresholds": thresholds}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], source: str) -> Blend:
        """The inverse of :meth:`to_dict`; a value out of range is a :class:`CheckpointError` naming ``source``."""
        try:
            weight, rule = float(values["weight"]), str(values["rule"])
            thresholds = values.get("thresholds")
            thresholds = None if thresholds is None else np.asarray(thresholds, dtype=np.float32)
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"'{source}' holds no usable blend weight ({error!r}): {dict(values)}") from error
        if not 0.0 <= weight <= 1.0 or rule not in RULES:
            raise CheckpointError(f"'{source}': blend weight {weight} must be in [0, 1] and rule {rule!r} one of "
                                  f"{', '.join(RULES)}.")
        if thresholds is not None and (thresholds.ndim != 1 or not ((thresholds > 0) & (thresholds < 1)).all()):
            raise CheckpointError(f"'{source}': blend thresholds {thresholds.tolist()} must be one per label in "
                                  "(0, 1).")
        return cls(weight, rule, thresholds)


@dataclass(frozen=True)
class BlendRecord:
    """The blend a checkpoint or export ships: the :class:`Blend`, its TF-IDF file (relative to the run folder for
    a checkpoint, to the export folder for an export) with that file's SHA-256, and the test macro-F1 of the model
    alone, TF-IDF alone and the blend (``SCORE_ROWS``), for reports."""

    blend: Blend
    tfidf_file: str
    tfidf_sha256: str
    test_f1_macro: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**self.blend.to_dict(), "tfidf_file": self.tfidf_file, "tfidf_sha256": self.tfidf_sha256,
                "test_f1_macro": {name: float(value) for name, value in self.test_f1_macro.items()}}

    @classmethod
    def from_dict(cls, values: Any, source: str) -> BlendRecord:
        """The inverse of :meth:`to_dict`; a record that is not one is a :class:`CheckpointError` naming ``source``."""
        if not isinstance(values, Mapping):
            raise CheckpointError(f"'{source}' records a blend that is not a mapping of settings: {values!r}")
        file, digest, scores = values.get("tfidf_file"), values.get("tfidf_sha256"), values.get("test_f1_macro", {})
        if not isinstance(file, str) or not file or not isinstance(digest, str) or not isinstance(scores, Mapping):
            raise CheckpointError(f"'{source}' records a blend without its TF-IDF file and SHA-256: {dict(values)}")
        try:
            scores = {str(name): float(value) for name, value in scores.items()}
        except (TypeError, ValueError) as error:
            raise CheckpointError(f"'{source}' records blend test scores that are not numbers: {scores}") from error
        return cls(Blend.from_dict(values, source), file, digest, scores)


def blend(model: np.ndarray, tfidf: np.ndarray, weight: float) -> np.ndarray:
    """``weight * model + (1 - weight) * tfidf`` in float64 (same shapes: N x labels)."""
    model, tfidf = np.asarray(model, dtype=np.float64), np.asarray(tfidf, dtype=np.float64)
    if model.shape != tfidf.shape:
        raise ValueError(f"Model probabilities {model.shape} and TF-IDF probabilities {tfidf.shape} differ in shape.")
    return weight * model + (1.0 - weight) * tfidf


def fit_blend(model: np.ndarray, tfidf: np.ndarray, targets: np.ndarray, rule: str = "f1",
              grid: np.ndarray = WEIGHT_GRID) -> Blend:
    """The blend ``rule`` chooses on validation probabilities of the model and of TF-IDF (N x labels each) and the
    targets (label ids, or an N x labels 0/1 matrix for multi-label)."""
    if rule not in RULES:
        raise ValueError(f"Unknown blend rule {rule!r}; one of {', '.join(RULES)}.")
    targets = np.asarray(targets)
    if rule == "fixed":
        return blend_at(FIXED_WEIGHT, model, tfidf, targets)
    scores = {float(w): score(blend(model, tfidf, w), targets, rule) for w in grid}
    return blend_at(nearest_even_among_best(scores, TOLERANCES[rule]), model, tfidf, targets, rule, scores)


def blend_at(weight: float, model: np.ndarray, tfidf: np.ndarray, targets: np.ndarray, rule: str = "fixed",
             scores: dict[float, float] | None = None) -> Blend:
    """The blend at a given ``weight`` (1: the model alone, 0: TF-IDF alone); multi-label (2-D ``targets``): with
    the thresholds chosen on the blended validation probabilities."""
    thresholds = choose_thresholds(blend(model, tfidf, weight), targets) if np.ndim(targets) == 2 else None
    return Blend(float(weight), rule, thresholds, scores or {})


def nearest_even_among_best(scores: Mapping[float, float], tolerance: float) -> float:
    """Among the weights scoring within ``tolerance`` of the best, the one nearest 0.5; then the better score, then
    the larger weight."""
    best = max(scores.values())
    tied = [weight for weight, value in scores.items() if value >= best - tolerance]
    return min(tied, key=lambda weight: (round(abs(weight - FIXED_WEIGHT), 9), -scores[weight], -weight))


def score(probabilities: np.ndarray, targets: np.ndarray, rule: str) -> float:
    """Validation score under ``rule``, higher is better."""
    return macro_f1(probabilities, targets) if rule == "f1" else -log_loss(probabilities, targets)


def macro_f1(probabilities: np.ndarray, targets: np.ndarray, thresholds: np.ndarray | None = None) -> float:
    """Macro-F1 over every label: arg-max (single-label), or at ``thresholds`` (multi-label; by default those
    :func:`choose_thresholds` picks on these very probabilities)."""
    from sklearn.metrics import f1_score

    targets = np.asarray(targets)
    if targets.ndim == 2:
        chosen = choose_thresholds(probabilities, targets) if thresholds is None else thresholds
        return float(np.diag(per_label_f1(probabilities, targets, chosen)).mean())
    labels = list(range(probabilities.shape[1]))
    return float(f1_score(targets, probabilities.argmax(axis=1), labels=labels, average="macro", zero_division=0))


def log_loss(probabilities: np.ndarray, targets: np.ndarray) -> float:
    """Mean negative log-likelihood of the true label (multi-label: the mean binary cross-entropy of every label)."""
    probabilities = np.clip(np.asarray(probabilities, dtype=np.float64), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    targets = np.asarray(targets)
    if targets.ndim == 2:
        return float(-np.mean(np.where(targets > 0, np.log(probabilities), np.log1p(-probabilities))))
    return float(-np.mean(np.log(probabilities[np.arange(len(targets)), targets])))
