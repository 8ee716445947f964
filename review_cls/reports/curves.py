"""Training curves: loss and macro-F1 per epoch, train against validation, with the best epoch marked."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from review_cls.reports.figures import new_figure

PANELS = (("loss", "loss"), ("f1_macro", "macro-F1"))
STAGES = (("train", "tab:blue", "o"), ("val", "tab:orange", "s"))


def best_epoch(history: pd.DataFrame, monitor: str, mode: str) -> int | None:
    """The epoch ModelCheckpoint keeps: the first one with the best ``monitor`` value (None if never logged)."""
    if monitor not in history or history[monitor].isna().all():
        return None
    position = history[monitor].idxmax() if mode == "max" else history[monitor].idxmin()
    return int(history.loc[position, "epoch"])


def plot_training_curves(history: pd.DataFrame, best: int | None, monitor: str) -> Figure:
    """Two panels side by side; the best epoch is a dashed line with its monitored value in the legend."""
    figure = new_figure(11, 4.2)
    for index, (metric, name) in enumerate(PANELS):
        axes = figure.add_subplot(1, len(PANELS), index + 1)
        for stage, colour, marker in STAGES:
            column = f"{stage}/{metric}"
            if column in history and history[column].notna().any():
                axes.plot(history["epoch"], history[column], color=colour, marker=marker, label=stage)
        if best is not None:
            value = history.loc[history["epoch"] == best, monitor].iloc[0] if monitor in history else float("nan")
            axes.axvline(best, color="tab:green", linestyle="--", label=f"best epoch {best} ({monitor} {value:.3f})")
        axes.set_title(name)
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    figure.suptitle("Training curves (per epoch)")
    return figure
