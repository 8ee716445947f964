"""Figures: made outside pyplot's global state, saved as PNG atomically (a failed save keeps the old file)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from review_cls.reports.figures import DPI, new_figure, save_png


def test_new_figure_has_the_asked_size_and_is_not_registered_with_pyplot():
    before = plt.get_fignums()
    figure = new_figure(4, 3)
    assert tuple(figure.get_size_inches()) == (4, 3) and figure.dpi == DPI
    assert plt.get_fignums() == before


def test_save_png_writes_a_png_file_and_returns_its_path(tmp_path):
    figure = new_figure(2, 2)
    figure.add_subplot().plot([0, 1], [1, 0])
    target = tmp_path / "nested" / "plot.png"
    assert save_png(figure, target) == target
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [path.name for path in target.parent.iterdir()] == ["plot.png"]


def test_a_save_that_fails_midway_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "plot.png"
    target.write_bytes(b"previous")
    figure = new_figure(2, 2)

    def broken_savefig(path, **options):
        path.write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        save_png(figure, target)
    assert target.read_bytes() == b"previous"
    assert [path.name for path in tmp_path.iterdir()] == ["plot.png"]
