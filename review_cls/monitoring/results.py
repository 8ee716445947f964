"""What changed and the topics, from the running counts of a prediction run: computed once at its end, written as
``emerging.csv`` and ``topics.csv``, and handed to the report page and ``summary.md``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from review_cls.monitoring.counts import TrendCounts
from review_cls.monitoring.emerging import Emerging, find_emerging
from review_cls.monitoring.trend_settings import trend_settings
from review_cls.monitoring.topics import Embed, find_topics
from review_cls.reports.insights import pick_column

log = logging.getLogger(__name__)
EMERGING_FILE, TOPICS_FILE = "emerging.csv", "topics.csv"
# a column named so (any case) is the app version when version_column is not set
VERSION_NAMES = ("version", "app_version", "appversion", "reviewcreatedversion")


@dataclass(frozen=True)
class TrendResults:
    """The flags with their notes, and the topics of every category."""

    emerging: Emerging
    topics: pd.DataFrame


def start_trends(cfg: DictConfig, columns: Sequence[str], date_column: str | None,
                 rating_column: str | None) -> TrendCounts:
    """The running counts for a command's settings (``trends`` group, ``text_column``, ``version_column``) and the
    date and rating columns it picked."""
    version_column = pick_column(columns, cfg.get("version_column"), VERSION_NAMES, "version_column")
    log.info("Version column: %s.", version_column)
    return TrendCounts(trend_settings(cfg.trends), cfg.text_column, date_column, version_column, rating_column)


def trend_results(counts: TrendCounts, embed: Embed | None) -> TrendResults:
    """Emerging issues from the counts alone; topics from ``embed`` (the model's encoder) or TF-IDF vectors."""
    emerging = find_emerging(counts)
    for note in emerging.notes:
        log.info("%s", note)
    log.info("%d emerging-issue flags; finding the topics of %d categories (%s vectors).", len(emerging.flags),
             len(counts.topic_samples), "the model's" if embed is not None else "TF-IDF")
    return TrendResults(emerging, find_topics(counts, embed))


def write_trend_files(results: TrendResults, folder: Path) -> None:
    """``emerging.csv`` (one row per flag, newest first) and ``topics.csv`` into ``folder``."""
    results.emerging.flags.to_csv(folder / EMERGING_FILE, index=False)
    results.topics.to_csv(folder / TOPICS_FILE, index=False)


def trend_markdown(results: TrendResults, shown: int = 10) -> list[str]:
    """The "What changed" and topics part of ``summary.md``."""
    flags = results.emerging.flags
    lines = ["## What changed", ""]
    lines += [f"- {note}" for note in results.emerging.notes]
    if flags.empty:
        lines.append("- No significant rise." if not results.emerging.notes else "- No significant rise otherwise.")
    for flag in flags.head(shown).itertuples(index=False):
        lines.append(f"- {flag.by} {flag.window}, {flag.category} ({flag.kind}): {flag.count:,} reviews, "
                     f"{flag.ratio:g}x the {flag.expected:g} expected, since {flag.since}; {flag.phrases}")
    if len(flags) > shown:
        lines.append(f"- ... {len(flags) - shown} more in `{EMERGING_FILE}`")
    lines += ["", "## Topics inside each category", ""]
    for topic in results.topics.itertuples(index=False):
        lines.append(f"- {topic.category} #{topic.topic} ({topic.share:.0%}): {topic.words}")
    if results.topics.empty:
        lines.append("- No category has enough reviews for topics.")
    return [*lines, ""]
