"""Running counts: chunking changes nothing, memory stays bounded (samples, phrase vocabulary), bad ratings and
dates are counted apart."""

from __future__ import annotations

import numpy as np
import pandas as pd

from review_cls.monitoring.counts import DATE, VERSION
from tests.unit.monitoring.streams import counted, stream


def test_chunk_size_changes_no_count():
    frame = stream(weeks=6, per_week=15)
    small, whole = counted(frame, chunk=13), counted(frame, chunk=len(frame))
    assert small.reviews == whole.reviews and small.totals == whole.totals and small.rating_sum == whole.rating_sum
    assert phrase_counts(small) == phrase_counts(whole)
    cell = next(c for c in whole.cells if c[0] == DATE)
    assert whole.matrix[whole.cells[cell]].max() <= whole.reviews[cell]  # a phrase counts once per review


def phrase_counts(counts) -> dict:
    """Cell -> {phrase: reviews holding it}, whatever order cells and phrases were numbered in."""
    names = counts.phrase_names()
    return {cell: {names[i]: int(n) for i, n in zip(row.indices, row.data)}
            for cell, row in ((cell, counts.matrix[index]) for cell, index in counts.cells.items())}


def test_versions_are_an_axis_of_their_own():
    counts = counted(stream(weeks=3, per_week=10))
    assert {cell[0] for cell in counts.reviews} == {DATE, VERSION}
    assert sum(n for (axis, _), n in counts.totals.items() if axis == VERSION) == \
        sum(n for (axis, _), n in counts.totals.items() if axis == DATE)


def test_samples_and_vocabulary_stay_bounded():
    frame = stream(weeks=2, per_week=300)
    frame["review"] = [f"{text} word{i} other{i * 7}" for i, text in enumerate(frame["review"])]
    counts = counted(frame, chunk=100, window_sample=5, topic_sample=20, max_phrases=200)
    assert all(len(kept) <= 5 for kept in counts.samples.values())
    assert all(len(kept) <= 20 for kept in counts.topic_samples.values())
    assert len(counts.vocabulary) <= 2 * 200 and counts.matrix.shape[1] == len(counts.vocabulary)
    assert "parcel" in counts.vocabulary  # the phrases of many reviews survive the pruning


def test_bad_ratings_and_dates_are_left_out_and_counted():
    frame = stream(weeks=2, per_week=5).head(8).copy()
    frame["rating"] = ["5", "inf", "1e300", "-3", "abc", "4", "2", ""]
    frame["date"] = ["2025-01-06", "never", "2025-01-07", "1677-09-22", "2262-04-10", None, "2025-01-08", "2025-01-09"]
    counts = counted(frame)
    assert counts.bad_ratings.count == 4 and counts.bad_ratings.examples == ["inf", "1e300", "-3"]  # and "abc"
    # pandas holds 1677-09-22 and 2262-04-10, but no review is dated so: left out, not a window each
    assert counts.undated == 4 and counts.bad_dates.count == 3
    assert counts.bad_dates.examples == ["never", "1677-09-22", "2262-04-10"]
    by_axis = {axis: sum(counts.rating_sum[c] for c in counts.rating_sum if c[0] == axis) for axis in (DATE, VERSION)}
    assert by_axis == {DATE: 5 + 2, VERSION: 5 + 4 + 2}  # the undated "4" counts by version only
    assert all(np.isfinite(value) for value in counts.rating_sum.values())


def test_multilabel_rows_count_each_review_once_in_the_totals():
    frame = stream(weeks=1, per_week=4)
    doubled = pd.concat([frame, frame.assign(predicted_label="other")]).sort_index(kind="stable")
    counts = counted(doubled, chunk=len(doubled))
    assert sum(n for (axis, _), n in counts.totals.items() if axis == DATE) == len(frame)
    assert counts.category_reviews["other"] == len(frame)
