"""What a product team reads after a prediction run: reviews per category, examples, weekly trend, mean rating.

Everything is accumulated chunk by chunk (running counts and a top-k heap per category), so a million-row file costs
no more memory than a small one. A multi-label model's review counts once under every label it carries (its
confidence there is that label's probability), so the shares of the categories may add up to more than 100%.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib import colormaps

from review_cls.errors import ConfigError, DataError
from review_cls.monitoring.review_values import DATE_RANGE, LeftOut, usable_dates, usable_ratings
from review_cls.reports.figures import new_figure, save_png

if TYPE_CHECKING:
    from review_cls.monitoring.counts import TrendCounts
    from review_cls.monitoring.results import TrendResults
    from review_cls.monitoring.topics import Embed

PREDICTED = "predicted_label"
CONFIDENCE = "confidence"
# a multi-label model's columns: its labels (joined with label_separator), whether one is near its threshold, and
# each label's probability (single-label models have the probability columns too)
LABELS, LOW_CONFIDENCE = "labels", "low_confidence"
PROBABILITY_PREFIX = "prob_"
DATE_NAMES = ("date", "at", "timestamp")
RATING_NAMES = ("rating", "score", "stars")
# every file InsightSummary.write may put in its folder: predict replaces a folder holding nothing else
INSIGHT_FILES = ("categories.csv", "categories.png", "top_examples.csv", "weekly_counts.csv", "weekly_counts.png",
                 "summary.md", "report.html", "emerging.csv", "topics.csv")


def pick_column(columns: Sequence[str], wanted: str | None, candidates: Sequence[str], setting: str) -> str | None:
    """``wanted`` if set (it must exist), else the first column whose lower-cased name is a candidate, else None."""
    if wanted:
        if wanted not in columns:
            raise DataError(f"{setting}='{wanted}' is not a column of the input. Columns: {', '.join(columns)}.")
        return wanted
    by_lower = {column.lower(): column for column in columns}
    return next((by_lower[name] for name in candidates if name in by_lower), None)


def week_starts(values: pd.Series) -> pd.Series:
    """Monday of each value's week (naive dates; time zones converted to UTC); values that are not a usable date
    (review_cls/monitoring/review_values.py) become NaT."""
    return usable_dates(values).dt.to_period("W-SUN").dt.start_time


def label_rows(chunk: pd.DataFrame, labels: Sequence[str], separator: str) -> pd.DataFrame:
    """A multi-label chunk as one row per (review, label it carries), with ``predicted_label`` and ``confidence`` (that
    label's probability) as a single-label chunk has them; the index stays the input row number."""
    carried = chunk[LABELS].dropna()
    carried = carried[carried != ""].str.split(separator, regex=False).explode()
    rows = chunk.loc[carried.index].assign(**{PREDICTED: carried.to_numpy()})
    confidence = np.zeros(len(rows), dtype=np.float64)
    for label in labels:
        is_label = (rows[PREDICTED] == label).to_numpy()
        confidence[is_label] = rows.loc[is_label, f"{PROBABILITY_PREFIX}{label}"].to_numpy(dtype=np.float64)
    return rows.assign(**{CONFIDENCE: confidence})


class InsightSummary:
    """Running per-category statistics over prediction chunks (columns ``predicted_label`` and ``confidence``, or
    a multi-label model's ``labels`` and ``prob_<label>`` when ``label_separator`` is given). With ``trends``, the
    counts for emerging issues and topics are fed too (``write`` then adds ``emerging.csv`` and ``topics.csv``).
    Ratings that are not finite numbers (with ``trends``: not within ``trends.rating_range``) and dates no review
    carries are left out and counted.
    """

    def __init__(
        self, labels: Sequence[str], text_column: str, top_k: int, date_column: str | None, rating_column: str | None,
        sample_rows: int = 0, label_separator: str | None = None, trends: TrendCounts | None = None,
        made_by: str = "",
    ) -> None:
        check_label_separator(labels, label_separator)
        self.labels = list(labels)
        # which predictor made the predictions (the blend with TF-IDF or the model alone), one line for the reports
        self.made_by = made_by
        self.label_separator = label_separator
        # reviews with a prediction, and (multi-label) those of them that carry none of the labels
        self.reviews = self.no_label = 0
        self.text_column = text_column
        self.top_k = top_k
        self.date_column = date_column
        self.rating_column = rating_column
        self.counts: Counter[str] = Counter()
        self.empty = 0
        self.undated = 0
        # dates and ratings given but not usable, left out of the weeks and the means
        self.bad_dates, self.bad_ratings = LeftOut(), LeftOut()
        self.rating_range = trends.settings.rating_range if trends is not None else None
        self.weekly: Counter[tuple[pd.Timestamp, str]] = Counter()
        self.rating_sum: Counter[str] = Counter()
        self.rating_count: Counter[str] = Counter()
        # min-heaps of (confidence, -row, text): the least confident example is evicted first, ties keep earlier rows
        self.top: dict[str, list[tuple[float, int, str]]] = {label: [] for label in self.labels}
        # the same with -confidence: the reviews a human should check first
        self.bottom: dict[str, list[tuple[float, int, str]]] = {label: [] for label in self.labels}
        self.stars: Counter[tuple[str, int]] = Counter()
        # a uniform sample of predicted rows for the report's table: the rows with the smallest random keys
        self.sample_rows = sample_rows
        self.sample: list[tuple[float, int, str, str, float]] = []
        self._random = np.random.default_rng(0)
        self.trends = trends
        self.trend_results: TrendResults | None = None

    def update(self, chunk: pd.DataFrame) -> None:
        """Fold one chunk of predictions (index = input row number) into the running statistics."""
        if self.label_separator is None:
            predicted = chunk[chunk[PREDICTED].notna()]
            reviews = len(predicted)
        else:
            reviews = int(chunk[LABELS].notna().sum())
            predicted = label_rows(chunk, self.labels, self.label_separator)
            self.no_label += reviews - predicted.index.nunique()
        self.empty += len(chunk) - reviews
        self.reviews += reviews
        labels = predicted[PREDICTED].astype(str)
        self.counts.update(labels.value_counts().to_dict())
        for label, group in predicted.groupby(labels, sort=False):
            for heaps, sign in ((self.top, 1.0), (self.bottom, -1.0)):
                picked = group.assign(key=sign * group[CONFIDENCE]).nlargest(self.top_k, "key", keep="first")
                for row, key, text in zip(picked.index, picked["key"], picked[self.text_column]):
                    _push(heaps[label], (float(key), -int(row), str(text)), self.top_k)
        self._update_sample(predicted, labels)
        # a multi-label review counts once in what was left out, though it is a row under each of its labels
        first = ~predicted.index.duplicated()
        if self.date_column:
            weeks = week_starts(predicted[self.date_column])
            dated = weeks.notna()
            self.undated += int((~dated & first).sum())
            self.bad_dates.add(predicted.loc[first, self.date_column], (~dated)[first].to_numpy())
            self.weekly.update(pd.DataFrame({"week": weeks[dated], "label": labels[dated]}).value_counts().to_dict())
        if self.rating_column:
            ratings = pd.Series(usable_ratings(predicted[self.rating_column], self.rating_range), index=predicted.index)
            rated = ratings.notna()
            self.bad_ratings.add(predicted.loc[first, self.rating_column], (~rated)[first].to_numpy())
            totals = ratings[rated].groupby(labels[rated]).agg(["sum", "count"])
            self.rating_sum.update(totals["sum"].to_dict())
            self.rating_count.update(totals["count"].to_dict())
            self.stars.update(pd.DataFrame({"label": labels[rated], "stars": ratings[rated].round().astype(int)})
                              .value_counts().to_dict())
        if self.trends is not None:
            self.trends.update(predicted, labels)

    def _update_sample(self, predicted: pd.DataFrame, labels: pd.Series) -> None:
        if not self.sample_rows:
            return
        keys = self._random.random(len(predicted))
        for key, row, label, text, confidence in zip(keys, predicted.index, labels, predicted[self.text_column],
                                                     predicted[CONFIDENCE]):
            _push(self.sample, (-float(key), int(row), label, str(text), float(confidence)), self.sample_rows)

    @property
    def predicted(self) -> int:
        """Reviews that got a prediction (a multi-label review with several labels counts once)."""
        return self.reviews

    @property
    def multilabel(self) -> bool:
        return self.label_separator is not None

    def category_table(self) -> pd.DataFrame:
        """One row per category (all the model knows, most frequent first): count, share of the predicted reviews
        (multi-label: the shares may add up to more than 1), and mean rating if any."""
        counts = np.array([self.counts[label] for label in self.labels], dtype=np.int64)
        table = pd.DataFrame({"category": self.labels, "count": counts, "share": counts / max(self.predicted, 1)})
        if self.rating_column:
            rated = np.array([self.rating_count[label] for label in self.labels], dtype=np.int64)
            sums = np.array([self.rating_sum[label] for label in self.labels], dtype=np.float64)
            table["mean_rating"] = np.divide(sums, rated, out=np.full(len(rated), np.nan), where=rated > 0)
            table["rated_reviews"] = rated
        return table.sort_values(["count", "category"], ascending=[False, True], kind="stable").reset_index(drop=True)

    def examples_table(self, least: bool = False) -> pd.DataFrame:
        """The ``top_k`` most (or least) confident reviews per category, with their input row number."""
        heaps, sign = (self.bottom, -1.0) if least else (self.top, 1.0)
        rows = [
            {"category": label, "rank": rank, "confidence": sign * key, "row": -negative_row, "text": text}
            for label in self.labels
            for rank, (key, negative_row, text) in enumerate(sorted(heaps[label], reverse=True), start=1)
        ]
        return pd.DataFrame(rows, columns=["category", "rank", "confidence", "row", "text"])

    def weekly_table(self) -> pd.DataFrame:
        """Reviews per week (Monday) and category; weeks without reviews are filled with zeros."""
        if not self.weekly:
            return pd.DataFrame(columns=self.labels, index=pd.DatetimeIndex([], name="week"), dtype=np.int64)
        counts = pd.Series(self.weekly).unstack(fill_value=0).reindex(columns=self.labels, fill_value=0)
        weeks = pd.date_range(counts.index.min(), counts.index.max(), freq="7D", name="week")
        return counts.reindex(weeks, fill_value=0).astype(np.int64)

    def sample_table(self) -> pd.DataFrame:
        """The sampled predicted rows (at most ``sample_rows``) in input order."""
        rows = sorted((row, label, text, confidence) for _, row, label, text, confidence in self.sample)
        return pd.DataFrame(rows, columns=["row", "category", "text", "confidence"])

    def write(self, folder: Path, source: str, embed: Embed | None = None) -> None:
        """CSV tables, PNG charts and ``summary.md`` into ``folder`` (which must exist); with trends, what changed
        and the topics (sentence vectors from ``embed``, TF-IDF without it)."""
        if self.trends is not None:
            from review_cls.monitoring.results import trend_results, write_trend_files

            self.trend_results = trend_results(self.trends, embed)
            write_trend_files(self.trend_results, folder)
        categories = self.category_table()
        categories.to_csv(folder / "categories.csv", index=False)
        plot_categories(categories, folder / "categories.png", title=self.share_title("Reviews per category"))
        examples = self.examples_table()
        examples.to_csv(folder / "top_examples.csv", index=False)
        weekly = None
        if self.date_column:
            weekly = self.weekly_table()
            weekly.to_csv(folder / "weekly_counts.csv", date_format="%Y-%m-%d")
            if len(weekly):
                plot_weekly(weekly, folder / "weekly_counts.png")
        (folder / "summary.md").write_text(self._markdown(source, categories, examples, weekly), encoding="utf-8")

    def share_title(self, title: str) -> str:
        """A chart title with the review count; multi-label: that one review may count under several categories."""
        if not self.multilabel:
            return f"{title} ({self.predicted:,})"
        return f"{title} ({self.predicted:,} reviews; one review counts under each of its labels, shares add up to more than 100%)"

    def _markdown(
        self, source: str, categories: pd.DataFrame, examples: pd.DataFrame, weekly: pd.DataFrame | None
    ) -> str:
        shown = categories.assign(share=categories["share"].map("{:.1%}".format))
        if "mean_rating" in shown:
            shown["mean_rating"] = shown["mean_rating"].map(lambda value: "" if pd.isna(value) else f"{value:.2f}")
        lines = [
            f"# Review insights: {source}",
            "",
            f"{self.predicted:,} reviews classified; {self.empty:,} rows with an empty text got no prediction.",
            "",
            *([f"Predicted by {self.made_by}.", ""] if self.made_by else []),
            *([f"Multi-label model: a review counts once under each label it carries, so the shares add up to more "
               f"than 100%; {self.no_label:,} reviews carry none of the labels.", ""] if self.multilabel else []),
            markdown_table(shown),
            "",
            "![reviews per category](categories.png)",
            "",
        ]
        if weekly is not None:
            lines += [f"## Per week (`{self.date_column}`)", "",
                      f"{len(weekly)} weeks in `weekly_counts.csv`; {self.undated:,} reviews without a usable date "
                      f"(none, unreadable, or not {DATE_RANGE})" + _examples(self.bad_dates) + ".", ""]
            if len(weekly):
                lines += ["![reviews per week](weekly_counts.png)", ""]
        if self.bad_ratings.count:
            lines += [f"{self.bad_ratings.count:,} ratings in `{self.rating_column}` are left out of the mean ratings: "
                      "not numbers"
                      + (f" from {self.rating_range[0]:g} to {self.rating_range[1]:g}" if self.rating_range else "")
                      + _examples(self.bad_ratings) + ".", ""]
        if self.trend_results is not None:
            from review_cls.monitoring.results import trend_markdown

            lines += trend_markdown(self.trend_results)
        lines += [f"## Most confident reviews per category (top {self.top_k})", ""]
        for label, group in examples.groupby("category", sort=False):
            lines += [f"### {label}", ""]
            lines += [f"{rank}. ({confidence:.3f}, row {row}) {_one_line(text)}"
                      for rank, confidence, row, text in group[["rank", "confidence", "row", "text"]].itertuples(
                          index=False)]
            lines.append("")
        return "\n".join(lines)


def check_label_separator(labels: Sequence[str], separator: str | None) -> None:
    """A multi-label file's labels are split on ``separator``: no label may hold it."""
    holding = [label for label in labels if separator and separator in label]
    if holding:
        free = next((mark for mark in "|;/+" if not any(mark in label for label in labels)), None)
        raise ConfigError(f"label_separator={separator!r} occurs in the label {holding[0]!r} of the model, so a "
                          "review's labels could not be told apart; choose a separator no label holds"
                          + (f", e.g. label_separator='{free}'." if free else "."))


def _examples(left_out: LeftOut) -> str:
    return f", e.g. {', '.join(map(repr, left_out.examples))}" if left_out.examples else ""


def _push(heap: list, item: tuple, limit: int) -> None:
    """Keep the ``limit`` largest items of a min-heap."""
    if len(heap) < limit:
        heapq.heappush(heap, item)
    elif limit:
        heapq.heappushpop(heap, item)


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub markdown table of ``frame`` as it prints (no index)."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_one_line(value) for value in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def _one_line(value: object) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def plot_categories(table: pd.DataFrame, path: Path, title: str) -> None:
    """Horizontal bars, most frequent category on top, each labelled with its count and share."""
    ordered = table.iloc[::-1]
    figure = new_figure(9, 1.2 + 0.45 * len(ordered))
    axes = figure.add_subplot()
    bars = axes.barh(ordered["category"].astype(str), ordered["count"], color="#4C72B0")
    labels = [f" {count:,} ({share:.1%})" for count, share in zip(ordered["count"], ordered["share"])]
    axes.bar_label(bars, labels=labels, fontsize=10)
    axes.set_xlim(0, max(int(ordered["count"].max()), 1) * 1.25)
    axes.set_xlabel("reviews")
    axes.set_title(title)
    axes.spines[["top", "right"]].set_visible(False)
    save_png(figure, path)


def plot_weekly(weekly: pd.DataFrame, path: Path) -> None:
    """One line per category over weeks, legend outside the plot so lines stay readable with many categories."""
    figure = new_figure(11, 5)
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
    save_png(figure, path)
