"""Prediction insights: column picking, week starts, and the per-category tables and files built chunk by chunk."""

from __future__ import annotations

import pandas as pd
import pytest

from review_cls.errors import ConfigError, DataError
from review_cls.reports.insights import InsightSummary, pick_column, week_starts

LABELS = ["billing", "delivery", "quality"]


def test_pick_column_finds_a_candidate_case_insensitively_and_refuses_a_missing_wanted_column():
    assert pick_column(["text", "Stars", "Score"], None, ("rating", "score", "stars"), "rating_column") == "Score"
    assert pick_column(["text"], None, ("rating",), "rating_column") is None
    with pytest.raises(DataError, match=r"date_column='when' is not a column of the input\. Columns: text, At\."):
        pick_column(["text", "At"], "when", ("date", "at"), "date_column")


def test_week_starts_are_mondays_in_utc_and_unreadable_dates_become_nat():
    weeks = week_starts(pd.Series(["2024-03-06T12:00:00+00:00", "2024-03-10T23:30:00-02:00", "not a date"]))
    assert list(weeks[:2]) == [pd.Timestamp("2024-03-04"), pd.Timestamp("2024-03-11")]
    assert pd.isna(weeks[2])


def single_label_summary() -> InsightSummary:
    summary = InsightSummary(LABELS, text_column="text", top_k=2, date_column="date", rating_column="rating")
    summary.update(pd.DataFrame({
        "text": ["late parcel", "", "double charge", "box arrived broken"],
        "predicted_label": ["delivery", None, "billing", "delivery"],
        "confidence": [0.9, None, 0.8, 0.6],
        "date": ["2024-03-04", None, "2024-03-20", "2024-03-05"],
        "rating": [1, None, 2, 4],
    }, index=[0, 1, 2, 3]))
    summary.update(pd.DataFrame({
        "text": ["parcel lost"], "predicted_label": ["delivery"], "confidence": [0.95], "date": ["2024-03-06"],
        "rating": ["n/a"],
    }, index=[4]))
    return summary


def test_chunks_add_up_to_category_counts_shares_mean_ratings_and_the_top_k_examples():
    summary = single_label_summary()
    assert summary.predicted == 4 and summary.empty == 1
    table = summary.category_table()
    assert list(table["category"]) == ["delivery", "billing", "quality"]
    assert list(table["count"]) == [3, 1, 0]
    assert list(table["share"]) == pytest.approx([0.75, 0.25, 0.0])
    assert table["mean_rating"].iloc[0] == pytest.approx(2.5) and table["rated_reviews"].iloc[0] == 2
    assert pd.isna(table["mean_rating"].iloc[2])
    delivery = summary.examples_table().query("category == 'delivery'")
    assert list(delivery["row"]) == [4, 0] and list(delivery["confidence"]) == pytest.approx([0.95, 0.9])
    least = summary.examples_table(least=True).query("category == 'delivery'")
    assert list(least["row"]) == [3, 0] and list(least["rank"]) == [1, 2]


def test_a_multi_label_review_counts_under_each_of_its_labels_with_that_labels_probability():
    summary = InsightSummary(LABELS, text_column="text", top_k=3, date_column=None, rating_column=None,
                             label_separator="|")
    summary.update(pd.DataFrame({
        "text": ["late and overcharged", "fine", "broken"],
        "labels": ["billing|delivery", "", "quality"],
        "prob_billing": [0.7, 0.1, 0.2], "prob_delivery": [0.8, 0.2, 0.1], "prob_quality": [0.1, 0.3, 0.9],
    }))
    assert summary.predicted == 3 and summary.no_label == 1
    table = summary.category_table().set_index("category")
    assert table.loc["billing", "count"] == 1 and table.loc["delivery", "count"] == 1
    examples = summary.examples_table().set_index("category")
    assert examples.loc["delivery", "confidence"] == pytest.approx(0.8)
    assert examples.loc["billing", "row"] == 0
    assert "shares add up to more than 100%" in summary.share_title("Reviews per category")


def test_write_puts_tables_charts_and_a_summary_naming_the_counts_in_the_folder(tmp_path):
    single_label_summary().write(tmp_path, source="reviews.csv")
    names = {path.name for path in tmp_path.iterdir()}
    assert names == {"categories.csv", "categories.png", "top_examples.csv", "weekly_counts.csv",
                     "weekly_counts.png", "summary.md"}
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# Review insights: reviews.csv")
    assert "4 reviews classified; 1 rows with an empty text got no prediction." in summary
    assert "3 weeks in `weekly_counts.csv`; 0 reviews without a usable date (none, unreadable, or not from " \
           "1990-01-01 to 2099-12-31)." in summary
    assert "1 ratings in `rating` are left out of the mean ratings: not numbers, e.g. 'n/a'." in summary
    assert "1. (0.950, row 4) parcel lost" in summary
    assert list(pd.read_csv(tmp_path / "categories.csv")["count"]) == [3, 1, 0]
    weekly = pd.read_csv(tmp_path / "weekly_counts.csv")
    assert list(weekly["week"]) == ["2024-03-04", "2024-03-11", "2024-03-18"]
    assert list(weekly["delivery"]) == [3, 0, 0] and list(weekly["billing"]) == [0, 0, 1]



def test_dates_of_several_formats_in_one_column_each_find_their_week():
    weeks = week_starts(pd.Series(["2024-03-06", "2024-03-10T23:30:00-02:00", "not a date", "03/12/2024"]))
    assert weeks.tolist()[:2] == [pd.Timestamp("2024-03-04"), pd.Timestamp("2024-03-11")]
    assert pd.isna(weeks.iloc[2]) and weeks.iloc[3] == pd.Timestamp("2024-03-11")


def test_ratings_and_dates_no_review_carries_are_left_out_and_counted_not_plotted(tmp_path):
    from review_cls.monitoring.counts import TrendCounts
    from review_cls.monitoring.trend_settings import trend_settings
    from tests.helpers import group_settings

    trends = TrendCounts(trend_settings(group_settings("trends", "default")), "text", "date", None, "rating")
    summary = InsightSummary(LABELS, text_column="text", top_k=2, date_column="date", rating_column="rating",
                             trends=trends)
    summary.update(pd.DataFrame({
        "text": ["a", "b", "c", "d", "e", "f"], "predicted_label": ["billing"] * 6, "confidence": [0.9] * 6,
        "date": ["2024-03-04", "1677-09-22", "2262-04-10", "2024-03-05", None, "2024-03-12"],
        "rating": [4, "inf", 1e300, 300, 2, None],
    }))
    assert summary.category_table()["mean_rating"].iloc[0] == pytest.approx(3.0)  # 4 and 2 of the range [0, 10]
    assert summary.bad_ratings.count == 3 and summary.bad_dates.count == 2
    summary.write(tmp_path, source="reviews.csv")
    assert len(pd.read_csv(tmp_path / "weekly_counts.csv")) == 2  # 2024-03-04 and 2024-03-11, not 30,000 weeks
    page = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "3 reviews without a usable date (none, unreadable, or not from 1990-01-01 to 2099-12-31), e.g. " \
           "'1677-09-22', '2262-04-10'." in page
    assert "3 ratings in `rating` are left out of the mean ratings: not numbers from 0 to 10, e.g. 'inf', " \
           "'1e+300', '300'." in page


def test_a_label_separator_found_inside_a_label_is_refused_naming_both():
    with pytest.raises(ConfigError, match=r"label_separator='_' occurs in the label 'bug_report' of the model.*"
                                          r"e.g. label_separator='\|'"):
        InsightSummary(["bug_report", "price"], text_column="text", top_k=2, date_column=None, rating_column=None,
                       label_separator="_")
    InsightSummary(["bug_report"], text_column="text", top_k=2, date_column=None, rating_column=None)  # single-label
