"""Windows of dates (period numbers, out-of-range and unreadable dates) and the order of app versions."""

from __future__ import annotations

import pandas as pd

from review_cls.monitoring.windows import NO_WINDOW, date_windows, version_key, version_values, window_start


def test_dates_become_consecutive_period_numbers_and_bad_ones_none():
    values = pd.Series(["2025-01-06", "2025-01-12T23:30:00", "2025-01-13", "not a date", None, "2025-01-14T08:00:00+09:00"])
    weeks = date_windows(values, "W-SUN")
    assert weeks[0] == weeks[1] and weeks[2] == weeks[0] + 1 and weeks[5] == weeks[2]
    assert list(weeks[3:5]) == [NO_WINDOW, NO_WINDOW]
    assert window_start(int(weeks[2]), "W-SUN") == pd.Timestamp("2025-01-13")
    months = date_windows(values[:3], "M")
    assert months[0] == months[2]


def test_dates_no_review_carries_get_no_window():
    weeks = date_windows(pd.Series(["1677-09-22", "2262-04-10", "2025-01-06", "99999-01-01", "1989-12-31",
                                    "2100-01-01", "1990-01-01"]), "W-SUN")
    assert (weeks[[0, 1, 3, 4, 5]] == NO_WINDOW).all() and (weeks[[2, 6]] != NO_WINDOW).all()


def test_versions_sort_by_their_numbers():
    versions = ["12.10", "11.47.1", "12.9", "11.47", "12.03"]
    assert sorted(versions, key=version_key) == ["11.47", "11.47.1", "12.03", "12.9", "12.10"]
    assert version_values(pd.Series([" 2.1 ", "", None])).tolist()[0] == "2.1"
    assert version_values(pd.Series([" 2.1 ", "", None])).isna().tolist() == [False, True, True]
