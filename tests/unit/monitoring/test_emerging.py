"""Emerging issues: a planted complaint is flagged in its week with its own words, a steady stream is not, and
streams too short or too small get a "not enough history" note instead of a test."""

from __future__ import annotations

import numpy as np
import pandas as pd

from review_cls.monitoring import emerging
from review_cls.monitoring.emerging import (
    CATEGORY,
    FLAG_COLUMNS,
    PHRASE,
    Window,
    find_emerging,
    timeline,
)
from tests.unit.monitoring.streams import PLANTED, counted, stream


def test_planted_complaint_is_flagged_in_its_week_with_its_words_and_examples():
    found = find_emerging(counted(stream(weeks=12, planted_week=9, planted=50))).flags
    assert list(found.columns) == FLAG_COLUMNS
    week = found[(found["by"] == "week") & (found["window"] == "2025-03-10")]
    phrase = week[week["kind"] == PHRASE].iloc[0]
    assert phrase["category"] == "delivery" and any(word in phrase["phrases"] for word in ("login", "code"))
    assert phrase["count"] >= 50 and phrase["ratio"] >= 2 and phrase["p_value"] < 0.01
    assert phrase["since"] == "2025-03-10" and phrase["version"] == "2.9" and phrase["rating_after"] == 1.0
    assert PLANTED in phrase["examples"].split("\n")[0]
    category = week[week["kind"] == CATEGORY]
    assert list(category["category"]) == ["delivery"] and "login" in category.iloc[0]["phrases"]
    versions = found[found["by"] == "version"]
    assert "2.9" in set(versions["window"])  # the same rise, found by app version


def test_steady_stream_raises_no_flag():
    for seed in range(3):
        assert find_emerging(counted(stream(weeks=12, seed=seed))).flags.empty


def test_one_week_only_says_not_enough_history():
    result = find_emerging(counted(stream(weeks=1)))
    assert result.flags.empty
    assert any("Not enough history by week" in note and "1 week(s)" in note for note in result.notes)


def test_a_category_with_three_reviews_is_named_in_a_note():
    frame = stream(weeks=10)
    frame.loc[frame.index[:3], "predicted_label"] = "rare"
    notes = find_emerging(counted(frame)).notes
    assert any("'rare'" in note and "none was tested" in note for note in notes)


def test_flags_are_newest_first_and_hold_no_nan_text():
    frame = stream(weeks=14, planted_week=9)
    late = stream(weeks=14, planted_week=12, seed=1)
    late = late[late["review"].str.contains("login")].assign(review=lambda f: f["review"].str.replace(
        "login code never arrives", "app freezes on the payment screen"))
    flags = find_emerging(counted(pd.concat([frame, late], ignore_index=True))).flags
    weeks = flags[flags["by"] == "week"]["window"].tolist()
    assert weeks == sorted(weeks, reverse=True) and len(set(weeks)) >= 2
    assert not flags[["phrases", "examples"]].isna().any().any()
    assert np.isfinite(flags["ratio"]).all()


def test_every_test_is_counted_but_only_those_below_alpha_are_kept():
    tests = emerging.Tests(alpha=0.01)
    tests.add("date", "delivery", 5, np.array([-1, 4, 7]), np.array([30, 6, 5]), 40, np.array([10.0, 1.0, 1.0]),
              np.array([1e-5, 0.2, 0.009]))
    assert tests.made == 3 and [test.phrase for test in tests.kept] == [-1, 7]


def test_flags_are_those_of_a_correction_over_every_test(monkeypatch):
    """Dropping the tests at or above alpha changes no flag and no p-value: the correction still counts them."""
    frame = stream(weeks=12, planted_week=9, planted=50)
    kept = find_emerging(counted(frame)).flags
    every_test = emerging.Tests
    monkeypatch.setattr(emerging, "Tests", lambda alpha: every_test(alpha=2.0))  # keeps every test
    every = find_emerging(counted(frame)).flags
    assert len(kept) and kept.equals(every)


def test_a_windows_rising_phrases_do_not_change_when_later_windows_arrive():
    """What names a flag is the window against its own history: a phrase that rises only weeks later neither
    lifts nor lowers it (a flag keeps its names as the file grows)."""
    steady = stream(weeks=14, planted_week=6, planted=60)
    delivery = steady.index[steady["predicted_label"] == "delivery"]
    week = ((pd.to_datetime(steady.loc[delivery, "date"]) - pd.Timestamp("2025-01-06")).dt.days // 7).to_numpy()
    steady.loc[delivery[np.arange(len(delivery)) % 8 == 0], "review"] += ". dark mode please"
    rising = steady.copy()  # the same stream, but most delivery reviews ask for dark mode from week 10 on
    rising.loc[delivery[(week >= 10) & (np.arange(len(delivery)) % 4 != 0)], "review"] += ". dark mode please"
    scores = []
    for frame in (steady, rising):
        counts = counted(frame)
        line = timeline(counts, "date")
        z = Window(counts, line, "delivery", min(line.windows.values()) + 6).rising()
        scores.append(dict(zip(counts.phrase_names(), z)))
    shared = sorted(set(scores[0]) & set(scores[1]))
    assert "dark mode" in shared and "login code" in shared
    assert np.allclose([scores[0][p] for p in shared], [scores[1][p] for p in shared])
    assert scores[0]["login code"] > 2 and abs(scores[0]["dark mode"]) < scores[0]["login code"] / 4
