"""The insight summary's two charts, drawn with matplotlib's object API (no pyplot state, no display needed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure


def plot_categories(table: pd.DataFrame, path: Path, title: str) -> None:
    """Horizontal bars, most frequent category on top, each labelled with its count and share."""
    ordered = table.iloc[::-1]
    figure = Figure(figsize=(9, 1.2 + 0.45 * len(ordered)), layout="constrained")
    axes = figure.add_subplot()
    bars = axes.barh(ordered["category"].astype(str), ordered["count"], color="#4C72B0")
    labels = [f" {count:,} ({share:.1%})" for count, share in zip(ordered["count"], ordered["share"])]
    axes.bar_label(bars, labels=labels, fontsize=10)
    axes.set_xlim(0, max(int(ordered["count"].max()), 1) * 1.25)
    axes.set_xlabel("reviews")
    axes.set_title(title)
    axes.spines[["top", "right"]].set_visible(False)
    figure.savefig(path, dpi=120)


def plot_weekly(weekly: pd.DataFrame, path: Path) -> None:
    """One line per category over weeks, legend outside the plot so lines stay readable with many categories."""
    figure = Figure(figsize=(11, 5), layout="constrained")
    axes = figure.add_subplot()
    palette = colormaps["tab10" if len(weekly.columns) <= 10 else "tab20"]
    for i, (label, counts) in enumerate(weekly.items()):
        axes.plot(weekly.index, counts, marker="o", markersize=3, linewidth=1.5, label=str(label), color=palette(i))
    axes.set_ylabel("reviews per week")
    axes.set_xlabel("week (Monday)")
    axes.set_title("Reviews per category and week")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    figure.autofmt_xdate()
    figure.savefig(path, dpi=120)
