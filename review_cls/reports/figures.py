"""Save matplotlib figures as PNG without pyplot's global state and without ever leaving half a file."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from review_cls.utils.atomic import atomic_file

DPI = 120


def new_figure(width: float, height: float) -> Figure:
    """A figure not registered with pyplot: safe headless, in threads, and never leaked by a forgotten close."""
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save_png(figure: Figure, path: Path) -> Path:
    """Write ``figure`` to ``path`` atomically (temp file + rename)."""
    with atomic_file(path) as temporary:
        figure.savefig(temporary, format="png", bbox_inches="tight")
    return path
