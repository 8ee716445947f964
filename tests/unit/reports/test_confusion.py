"""Confusion matrix: counts with rows as the true class, row-normalised recall, and the drawn figure's text."""

from __future__ import annotations

import numpy as np

from review_cls.reports.confusion import confusion_counts, plot_confusion_matrix, row_recall


def test_counts_have_true_classes_as_rows_and_predicted_as_columns():
    counts = confusion_counts(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 0, 2]), num_classes=4)
    expected = np.array([[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(counts, expected)


def test_row_recall_divides_each_row_by_its_total_and_leaves_an_empty_row_zero():
    share = row_recall(np.array([[3, 1], [0, 0]]))
    np.testing.assert_allclose(share, [[0.75, 0.25], [0.0, 0.0]])


def test_figure_title_and_ticks_name_the_review_count_accuracy_and_support():
    counts = np.array([[3, 1, 0], [0, 2, 0], [1, 0, 3]])
    figure = plot_confusion_matrix(counts, ["billing", "delivery", "quality"], title="test")
    axes = figure.axes[0]
    assert "test (10 reviews, accuracy 80.0%)" in axes.get_title()
    assert [tick.get_text() for tick in axes.get_yticklabels()] == ["billing (n=4)", "delivery (n=2)",
                                                                    "quality (n=4)"]
    assert [tick.get_text() for tick in axes.get_xticklabels()] == ["billing", "delivery", "quality"]


def test_cells_show_count_and_row_share_and_empty_off_diagonal_cells_stay_blank():
    counts = np.array([[3, 1, 0], [0, 2, 0], [1, 0, 3]])
    figure = plot_confusion_matrix(counts, ["billing", "delivery", "quality"], title="val")
    cells = sorted(text.get_text() for text in figure.axes[0].texts)
    assert cells == sorted(["3\n75%", "1\n25%", "2\n100%", "1\n25%", "3\n75%"])


def test_a_class_without_reviews_still_gets_its_diagonal_cell():
    counts = np.array([[2, 0], [0, 0]])
    figure = plot_confusion_matrix(counts, ["a", "b"], title="test")
    assert sorted(text.get_text() for text in figure.axes[0].texts) == ["0\n0%", "2\n100%"]
