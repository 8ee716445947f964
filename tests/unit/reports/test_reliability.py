"""Reliability diagram: per-bin mean confidence, accuracy and count, and the lines the figure draws."""

from __future__ import annotations

import numpy as np
import torch

from review_cls.reports.reliability import plot_reliability, reliability_curve


def probabilities_and_labels():
    probabilities = torch.tensor([[0.95, 0.05], [0.08, 0.92], [0.55, 0.45], [0.30, 0.70]])
    labels = torch.tensor([0, 0, 0, 1])
    return probabilities, labels


def test_curve_has_mean_confidence_accuracy_and_count_of_each_non_empty_bin():
    confidence, accuracy, counts = reliability_curve(*probabilities_and_labels(), bins=10)
    np.testing.assert_allclose(confidence, [0.55, 0.70, 0.935])
    np.testing.assert_allclose(accuracy, [1.0, 1.0, 0.5])
    np.testing.assert_array_equal(counts, [1, 1, 2])


def test_a_confidence_of_exactly_one_falls_in_the_last_bin():
    confidence, accuracy, counts = reliability_curve(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0]),
                                                     bins=5)
    np.testing.assert_allclose(confidence, [1.0])
    np.testing.assert_allclose(accuracy, [0.5])
    np.testing.assert_array_equal(counts, [2])


def test_figure_draws_the_diagonal_and_one_line_per_curve_named_with_its_ece():
    probabilities, labels = probabilities_and_labels()
    figure = plot_reliability({"before": (probabilities, labels, 0.1234), "after": (probabilities, labels, 0.02)},
                              title="Calibration")
    axes = figure.axes[0]
    assert axes.get_title() == "Calibration"
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert legend == ["perfectly calibrated", "before (ECE 0.123)", "after (ECE 0.020)"]
    expected, _, _ = reliability_curve(probabilities, labels)
    np.testing.assert_allclose(axes.lines[1].get_xdata(), expected)
