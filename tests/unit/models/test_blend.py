"""The blend weight chosen on validation: each rule follows its score, near-ties go to the even blend, multi-label
thresholds are chosen on the blended probabilities, and a stored blend reads back or is refused with its source."""

from __future__ import annotations

import numpy as np
import pytest

from review_cls.errors import CheckpointError
from review_cls.models.blend import (
    WEIGHT_GRID,
    Blend,
    blend,
    blend_at,
    fit_blend,
    log_loss,
    macro_f1,
    nearest_even_among_best,
)
from review_cls.models.threshold_choice import choose_thresholds


def one_hot_ish(targets: np.ndarray, confidence: float, num_labels: int = 3) -> np.ndarray:
    probabilities = np.full((len(targets), num_labels), (1 - confidence) / (num_labels - 1))
    probabilities[np.arange(len(targets)), targets] = confidence
    return probabilities


def test_the_blend_is_the_weighted_average_in_float64():
    model = np.array([[0.9, 0.1]], dtype=np.float32)
    tfidf = np.array([[0.2, 0.8]])
    mixed = blend(model, tfidf, 0.25)
    np.testing.assert_allclose(mixed, [[0.25 * 0.9 + 0.75 * 0.2, 0.25 * 0.1 + 0.75 * 0.8]], rtol=1e-7)
    assert mixed.dtype == np.float64
    with pytest.raises(ValueError, match="differ in shape"):
        blend(model, tfidf[:, :1], 0.5)


def test_the_grid_runs_from_zero_to_one_by_a_twentieth():
    assert len(WEIGHT_GRID) == 21 and WEIGHT_GRID[0] == 0.0 and WEIGHT_GRID[-1] == 1.0 and 0.5 in WEIGHT_GRID


def test_fixed_is_the_even_blend_whatever_validation_says():
    targets = np.array([0, 1, 2, 0])
    assert fit_blend(one_hot_ish(targets, 0.9), one_hot_ish((targets + 1) % 3, 0.9), targets, "fixed").weight == 0.5


def test_f1_rule_leans_towards_the_half_that_is_right_but_stops_at_the_nearest_best_weight():
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 3, 200)
    model = one_hot_ish(targets, 0.7)  # always right, not very sure
    tfidf = one_hot_ish((targets + 1) % 3, 0.95)  # always wrong, very sure
    chosen = fit_blend(model, tfidf, targets, "f1")
    # right from the first weight where the model's 0.7 outweighs TF-IDF's 0.95: every larger weight ties at 1.0
    perfect = [w for w, value in chosen.scores.items() if value == 1.0]
    assert chosen.weight == min(perfect) > 0.5
    assert macro_f1(blend(model, tfidf, chosen.weight), targets) == 1.0


def test_log_loss_rule_prefers_the_calibrated_half():
    rng = np.random.default_rng(1)
    targets = rng.integers(0, 3, 300)
    right = rng.uniform(size=300) < 0.8
    model = one_hot_ish(np.where(right, targets, (targets + 1) % 3), 0.8)  # 80% right at 0.8: calibrated
    tfidf = one_hot_ish(np.where(rng.uniform(size=300) < 0.6, targets, (targets + 2) % 3), 0.99)  # overconfident
    chosen = fit_blend(model, tfidf, targets, "log_loss")
    assert chosen.weight > 0.5
    assert -chosen.scores[chosen.weight] <= log_loss(blend(model, tfidf, 0.5), targets)


def test_log_loss_reads_the_true_label_or_every_label():
    assert log_loss(np.array([[0.25, 0.75]]), np.array([1])) == pytest.approx(-np.log(0.75))
    assert log_loss(np.array([[0.25, 0.75]]), np.array([[0, 1]])) == pytest.approx(-(np.log(0.75) + np.log(0.75)) / 2)
    assert np.isfinite(log_loss(np.array([[0.0, 1.0]]), np.array([0])))  # a 0 probability costs a lot, not infinity


@pytest.mark.parametrize("scores, expected", [
    ({w: 0.8 for w in WEIGHT_GRID}, 0.5),  # a flat curve: the even blend
    ({0.3: 0.800, 0.35: 0.804, 0.4: 0.70, 0.5: 0.60}, 0.35),  # two within the tolerance: the one nearer 0.5
    ({0.3: 0.790, 0.35: 0.804, 0.4: 0.70, 0.5: 0.60}, 0.35),  # 0.3 is outside the tolerance
    ({0.45: 0.90, 0.55: 0.90, 0.0: 0.70}, 0.55),  # equally near 0.5, equal scores: the model's larger share
    ({0.45: 0.902, 0.55: 0.90, 0.0: 0.70}, 0.45),  # equally near 0.5: the better score
    ({0.0: 0.95, 0.5: 0.90, 1.0: 0.80}, 0.0),  # a clear winner far from 0.5 is kept
])
def test_near_ties_go_to_the_weight_nearest_the_even_blend(scores, expected):
    assert nearest_even_among_best(scores, tolerance=0.005) == expected


def test_multilabel_thresholds_are_chosen_on_the_blended_validation_probabilities():
    rng = np.random.default_rng(2)
    targets = (rng.uniform(size=(120, 4)) < 0.3).astype(int)
    model = np.clip(targets * 0.5 + rng.uniform(0, 0.45, targets.shape), 0, 1)
    tfidf = np.clip(targets * 0.3 + rng.uniform(0, 0.6, targets.shape), 0, 1)
    for rule in ("f1", "log_loss", "fixed"):
        chosen = fit_blend(model, tfidf, targets, rule)
        np.testing.assert_array_equal(chosen.thresholds, choose_thresholds(blend(model, tfidf, chosen.weight), targets))
    alone = blend_at(1.0, model, tfidf, targets)
    np.testing.assert_array_equal(alone.thresholds, choose_thresholds(model, targets))
    assert fit_blend(model[:, :1].ravel()[:, None], tfidf[:, :1].ravel()[:, None],
                     targets[:, :1], "f1").thresholds.shape == (1,)


def test_single_label_blends_carry_no_thresholds():
    targets = np.array([0, 1, 1])
    assert fit_blend(one_hot_ish(targets, 0.8, 2), one_hot_ish(targets, 0.6, 2), targets, "f1").thresholds is None


def test_a_blend_reads_back_from_plain_numbers():
    chosen = Blend(0.35, "log_loss", np.array([0.3, 0.55], dtype=np.float32))
    values = chosen.to_dict()
    assert values == {"weight": 0.35, "rule": "log_loss", "thresholds": [pytest.approx(0.3), pytest.approx(0.55)]}
    again = Blend.from_dict(values, "model.ckpt")
    assert again.weight == 0.35 and again.rule == "log_loss"
    np.testing.assert_allclose(again.thresholds, chosen.thresholds)
    assert Blend.from_dict({"weight": 0.5, "rule": "fixed", "thresholds": None}, "x").thresholds is None


@pytest.mark.parametrize("values, message", [
    ({"weight": 1.5, "rule": "f1"}, "must be in"),
    ({"weight": 0.5, "rule": "vote"}, "rule 'vote'"),
    ({"rule": "f1"}, "no usable blend weight"),
    ({"weight": 0.5, "rule": "f1", "thresholds": [0.5, 1.0]}, "thresholds"),
])
def test_a_stored_blend_out_of_range_is_an_error_naming_its_source(values, message):
    with pytest.raises(CheckpointError, match=message) as caught:
        Blend.from_dict(values, "export/config.json")
    assert "export/config.json" in str(caught.value)


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="Unknown blend rule"):
        fit_blend(np.ones((2, 2)) / 2, np.ones((2, 2)) / 2, np.array([0, 1]), "median")
