"""The exact one-sided tests and the Benjamini-Hochberg correction."""

from __future__ import annotations

import numpy as np
from scipy.stats import false_discovery_control, fisher_exact

from review_cls.monitoring.significance import benjamini_hochberg, count_rise_p, share_rise_p


def test_share_test_is_fishers_exact_test_one_sided():
    expected = fisher_exact([[12, 88], [20, 780]], alternative="greater").pvalue
    assert np.isclose(share_rise_p(12, 100, 20, 800), expected)
    assert share_rise_p(2, 100, 16, 800) > 0.5  # as often as before: no rise


def test_count_test_compares_the_window_with_its_history_windows():
    assert count_rise_p(60, 8 * 20, 8) < 1e-8
    assert count_rise_p(22, 8 * 20, 8) > 0.2


def test_benjamini_hochberg_adjusts_by_rank_and_keeps_order():
    # sorted 0.01, 0.03, 0.04, 0.5 -> p * 4 / rank 0.04, 0.06, 0.0533, 0.5 -> running minimum from the top
    assert np.allclose(benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5])), [0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert benjamini_hochberg(np.array([])).size == 0


def test_benjamini_hochberg_of_the_small_p_values_and_the_count_of_all_tests_matches_all_of_them():
    p_values = np.random.default_rng(0).beta(0.3, 1.0, 5000)
    full = false_discovery_control(p_values, method="bh")
    assert np.allclose(benjamini_hochberg(p_values), full)
    small = p_values < 0.01
    kept = benjamini_hochberg(p_values[small], tests=p_values.size)
    assert small.sum() < 0.5 * p_values.size and (full[small] < 0.01).any()
    assert np.allclose(kept[kept < 0.01], full[small][kept < 0.01])
    assert ((kept < 0.01) == (full[small] < 0.01)).all()
