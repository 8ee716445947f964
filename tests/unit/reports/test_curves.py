"""Training curves: which epoch counts as the best one, and what the two-panel figure shows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from review_cls.reports.curves import best_epoch, plot_training_curves


def history() -> pd.DataFrame:
    return pd.DataFrame({
        "epoch": [0, 1, 2, 3],
        "train/loss": [1.0, 0.7, 0.5, 0.4],
        "val/loss": [1.1, 0.8, 0.9, 0.8],
        "train/f1_macro": [0.3, 0.5, 0.6, 0.7],
        "val/f1_macro": [0.2, 0.6, 0.6, 0.5],
    })


def test_best_epoch_is_the_first_epoch_with_the_best_value_in_either_mode():
    assert best_epoch(history(), "val/f1_macro", "max") == 1
    assert best_epoch(history(), "val/loss", "min") == 1


def test_best_epoch_is_none_when_the_monitor_was_never_logged():
    assert best_epoch(history(), "val/acc", "max") is None
    frame = history().assign(**{"val/acc": np.nan})
    assert best_epoch(frame, "val/acc", "max") is None


def test_figure_has_loss_and_f1_panels_with_train_and_val_lines_and_the_best_epoch_in_the_legend():
    figure = plot_training_curves(history(), best=1, monitor="val/f1_macro")
    titles = [axes.get_title() for axes in figure.axes]
    assert titles == ["loss", "macro-F1"]
    for axes in figure.axes:
        legend = [text.get_text() for text in axes.get_legend().get_texts()]
        assert legend == ["train", "val", "best epoch 1 (val/f1_macro 0.600)"]
    np.testing.assert_allclose(figure.axes[1].lines[1].get_ydata(), [0.2, 0.6, 0.6, 0.5])


def test_a_stage_without_values_draws_no_line_and_no_best_epoch_draws_no_marker():
    frame = history().assign(**{"val/loss": np.nan, "val/f1_macro": np.nan})
    figure = plot_training_curves(frame, best=None, monitor="val/f1_macro")
    for axes in figure.axes:
        assert [text.get_text() for text in axes.get_legend().get_texts()] == ["train"]
