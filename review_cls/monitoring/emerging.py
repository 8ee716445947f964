"""Emerging issues: the (category, window) counts and the phrases of a category that rose significantly above their
own recent history, with what rose, by how much, since when, in which versions, in whose words.

Two kinds of flag, tested together and corrected together (Benjamini-Hochberg over every test of the run):
- ``category``: the category's share of all reviews (or, for the whole stream as one category, its count) in the
  window against the ``history`` windows before it; its expected count is what the other categories' reviews of
  the window lead to expect; named by the phrases that rose most with it (log-odds);
- ``phrase``: a phrase's share of the category's reviews in the window against its history ("tap to retry" in
  1% of the reviews before, 17% now); flagged phrases of one window that share words or reviews form one issue.
A window is tested only when it and its history hold ``min_reviews`` reviews and ``min_history`` of the windows
before it have any; the others are summed up in plain-language notes ("not enough history").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from review_cls.monitoring.counts import DATE, VERSION, Cell, Sampled, TrendCounts
from review_cls.monitoring.phrases import distinct_phrases, phrases_of, rising_z
from review_cls.monitoring.review_values import DATE_RANGE
from review_cls.monitoring.significance import benjamini_hochberg, count_rise_p, share_rise_p
from review_cls.monitoring.windows import version_key, window_start

CATEGORY, PHRASE = "category", "phrase"
FLAG_COLUMNS = ["category", "kind", "by", "window", "since", "version", "count", "reviews", "expected", "ratio",
                "p_value", "phrases", "rating_before", "rating_after", "examples"]
PHRASE_SEPARATOR = "; "
EXAMPLE_SEPARATOR = "\n"
# flagged phrases of one window are one issue when a third of the sampled reviews of the rarer one hold both
# ("something went wrong" and "tap to retry": one error screen, each review quoting part of it)
SAME_ISSUE_OVERLAP = 1 / 3


@dataclass(frozen=True)
class Emerging:
    """The flags (one row per flag, newest first, columns :data:`FLAG_COLUMNS`) and notes for a reader."""

    flags: pd.DataFrame
    notes: list[str]


@dataclass
class Test:
    """One test of a window: a category's count (``phrase`` -1) or one phrase's count among its reviews."""

    axis: str
    category: str
    position: int
    phrase: int
    count: int
    reviews: int
    expected: float
    p_value: float

    @property
    def ratio(self) -> float:
        return self.count / self.expected if self.expected > 0 else float("inf")


@dataclass
class Tests:
    """The tests of a run that could be flagged, and how many were made in all.

    Benjamini-Hochberg needs the number of tests but only the small p-values: a test at or above ``alpha`` can
    neither be flagged nor lower another's adjusted p-value, so it is counted and dropped. A million-row file makes
    a test for every phrase of every window (hundreds of thousands); keeping them all grew the memory with the file.
    """

    alpha: float
    kept: list[Test] = field(default_factory=list)
    made: int = 0

    def add(self, axis: str, category: str, position: int, phrases: np.ndarray, found: np.ndarray, reviews: int,
            expected: np.ndarray, p_values: np.ndarray) -> None:
        """One test per phrase (-1: the category itself) of one window."""
        self.made += len(phrases)
        for at in np.flatnonzero(np.asarray(p_values) < self.alpha):
            self.kept.append(Test(axis, category, position, int(phrases[at]), int(found[at]), reviews,
                                  float(expected[at]), float(p_values[at])))


@dataclass(frozen=True)
class Timeline:
    """The windows of one axis in order: position of each window (a date's period number, a version's rank)."""

    axis: str
    windows: dict[Hashable, int]
    period: str

    def label(self, window: Hashable) -> str:
        return window_start(int(window), self.period).date().isoformat() if self.axis == DATE else str(window)

    def unit(self, settings_window: str) -> str:
        return settings_window if self.axis == DATE else "version"


def timeline(counts: TrendCounts, axis: str) -> Timeline:
    windows = [window for (kind, window) in counts.totals if kind == axis]
    if axis == DATE:
        return Timeline(axis, {window: int(window) for window in windows}, counts.settings.period)
    ordered = sorted(windows, key=lambda version: version_key(str(version)))
    return Timeline(axis, {window: rank for rank, window in enumerate(ordered)}, counts.settings.period)


def find_emerging(counts: TrendCounts) -> Emerging:
    """Every flag of the run and the notes on what could not be tested."""
    notes = input_notes(counts)
    settings = counts.settings
    tests = Tests(settings.alpha)
    timelines = {axis: timeline(counts, axis) for axis in counts.axes}
    for line in timelines.values():
        notes += window_tests(counts, line, tests)
    adjusted = benjamini_hochberg(np.array([test.p_value for test in tests.kept]), tests.made)
    flagged = [(test, float(q)) for test, q in zip(tests.kept, adjusted)
               if q < settings.alpha and test.ratio >= settings.min_ratio]
    rows = flag_rows(counts, timelines, flagged)
    flags = pd.DataFrame(rows, columns=[*FLAG_COLUMNS, "_axis", "_order"])
    # by date first (newest first), then by version (newest first)
    flags = flags.sort_values(["_axis", "_order", "category", "p_value"], ascending=[True, False, True, True],
                              kind="stable").drop(columns=["_axis", "_order"]).reset_index(drop=True)
    return Emerging(flags, notes)


def input_notes(counts: TrendCounts) -> list[str]:
    """What the columns allowed: no date or version column, unreadable dates, ratings left out."""
    notes = []
    if not counts.axes:
        notes.append("No date or version column: emerging issues need one (set date_column=... or "
                     "version_column=...).")
    if counts.undated:
        examples = ", ".join(repr(value) for value in counts.bad_dates.examples)
        notes.append(f"{counts.undated:,} reviews have no usable date in '{counts.date_column}' (unreadable, or not "
                     f"{DATE_RANGE})" + (f", e.g. {examples}" if examples else "") + "; they are left out of the "
                     "windows.")
    if counts.bad_ratings.count:
        low, high = counts.settings.rating_range
        notes.append(f"{counts.bad_ratings.count:,} ratings in '{counts.rating_column}' outside [{low:g}, {high:g}] "
                     f"(e.g. {', '.join(counts.bad_ratings.examples)}) are left out of the mean ratings.")
    return notes


def window_tests(counts: TrendCounts, line: Timeline, tests: Tests) -> list[str]:
    """Test every window of one axis that has enough reviews and history; notes on the rest."""
    settings = counts.settings
    unit = line.unit(settings.window)
    positions = sorted(line.windows.values())
    notes = []
    if len(positions) <= settings.min_history:
        first = min(line.windows, key=line.windows.__getitem__)
        return [f"Not enough history by {unit}: the reviews cover {len(positions)} {unit}(s) (from "
                    f"{line.label(first)}); a {unit} is tested once {settings.min_history} {unit}s before it have "
                    "reviews."]
    by_position = {position: window for window, position in line.windows.items()}
    totals = {position: counts.totals[(line.axis, window)] for window, position in line.windows.items()}
    categories = sorted({cell[1] for cell in counts.reviews if cell[0] == line.axis})
    for category in categories:
        cells = {line.windows[cell[2]]: cell for cell in counts.reviews if cell[0] == line.axis and cell[1] == category}
        made = tests.made
        category_tests(counts, line, category, cells, totals, len(categories) > 1, positions[0], tests)
        if tests.made == made:
            notes.append(f"Not enough history for '{category}' by {unit}: no {unit} holds {settings.min_reviews} of "
                         f"its reviews with {settings.min_reviews} more in the {settings.history} {unit}s before "
                         "it, so none was tested.")
    latest = positions[-1]
    if sum(counts.reviews[cell] for cell in counts.reviews if cell[0] == line.axis
           and line.windows[cell[2]] == latest) < settings.min_reviews:
        notes.append(f"The latest {unit} ({line.label(by_position[latest])}) holds {totals[latest]:,} reviews: "
                     f"too few to test (min_reviews {settings.min_reviews}).")
    return notes


def category_tests(counts: TrendCounts, line: Timeline, category: str, cells: dict[int, Cell],
                   totals: dict[int, int], shares: bool, first: int, tests: Tests) -> None:
    """The category test and the phrase tests of each of one category's windows that can be tested."""
    settings = counts.settings
    for position, cell in sorted(cells.items()):
        reviews = counts.reviews[cell]
        before = range(max(position - settings.history, first), position)
        history = [cells[p] for p in before if p in cells]
        history_reviews = sum(counts.reviews[c] for c in history)
        with_reviews = sum(1 for p in before if totals.get(p, 0))
        if reviews < settings.min_reviews or history_reviews < settings.min_reviews or \
                with_reviews < settings.min_history:
            continue
        history_total = sum(totals.get(p, 0) for p in before)
        if shares and history_total > history_reviews:
            p_value = float(share_rise_p(reviews, totals[position], history_reviews, history_total))
            # what the other categories' reviews this window lead to expect (their odds before): a burst of one
            # category counts against the rest, which did not grow with it
            expected = (totals[position] - reviews) * history_reviews / (history_total - history_reviews)
        else:
            p_value = float(count_rise_p(reviews, history_reviews, len(before)))
            expected = history_reviews / len(before)
        tests.add(line.axis, category, position, np.array([-1]), np.array([reviews]), reviews, np.array([expected]),
                  np.array([p_value]))
        phrase_tests(counts, line.axis, category, position, cell, history, reviews, history_reviews, tests)


def phrase_tests(counts: TrendCounts, axis: str, category: str, position: int, cell: Cell, history: list[Cell],
                 reviews: int, history_reviews: int, tests: Tests) -> None:
    """One test per phrase held by ``min_phrase_reviews`` of the window's reviews of the category."""
    now = counts.matrix[counts.cells[cell]].toarray().ravel()
    candidates = np.flatnonzero(now >= counts.settings.min_phrase_reviews)
    if not candidates.size:
        return
    before = history_counts(counts, history)[candidates]
    p_values = share_rise_p(now[candidates], reviews, before, history_reviews)
    tests.add(axis, category, position, candidates, now[candidates], reviews,
              reviews * (before + 1) / (history_reviews + 1), p_values)


def history_counts(counts: TrendCounts, cells: list[Cell]) -> np.ndarray:
    """Reviews holding each phrase, summed over ``cells``."""
    if not cells:
        return np.zeros(counts.matrix.shape[1], dtype=np.int64)
    return np.asarray(counts.matrix[[counts.cells[cell] for cell in cells]].sum(axis=0)).ravel()


@dataclass(frozen=True)
class Window:
    """One flagged (axis, category, window) with what every flag of it needs."""

    counts: TrendCounts
    line: Timeline
    category: str
    position: int

    @property
    def cell(self) -> Cell:
        return (self.line.axis, self.category, self.window)

    @property
    def window(self) -> Hashable:
        return next(w for w, p in self.line.windows.items() if p == self.position)

    def history(self) -> list[Cell]:
        start = self.position - self.counts.settings.history
        return [(self.line.axis, self.category, w) for w, p in self.line.windows.items()
                if start <= p < self.position and (self.line.axis, self.category, w) in self.counts.cells]

    def rising(self) -> np.ndarray:
        """Log-odds z of every phrase in this window against its history (prior: the two together)."""
        now = self.counts.matrix[self.counts.cells[self.cell]].toarray().ravel()
        return rising_z(now, history_counts(self.counts, self.history()))

    def rising_phrases(self, z: np.ndarray, limit: int | None = None) -> list[str]:
        """The window's most-rising phrases (``z`` from :meth:`rising`, above 0), each held by
        ``min_phrase_reviews`` of its reviews, up to ``limit`` (``phrases``) of them: what names a category flag."""
        settings = self.counts.settings
        held = self.counts.matrix[self.counts.cells[self.cell]].toarray().ravel()
        rising = np.flatnonzero((z > 0) & (held >= settings.min_phrase_reviews))
        return distinct_phrases(self.counts.phrase_names()[rising[np.argsort(-z[rising])]].tolist(),
                                limit or settings.phrases)


def flag_rows(counts: TrendCounts, timelines: dict[str, Timeline], flagged: list[tuple[Test, float]]) -> list[dict]:
    """One row per category flag and per issue (flagged phrases of one window grouped)."""
    by_window: dict[tuple[str, str, int], list[tuple[Test, float]]] = {}
    for test, q in flagged:
        by_window.setdefault((test.axis, test.category, test.position), []).append((test, q))
    names = counts.phrase_names()
    phrase_flags = {key: {names[t.phrase] for t, _ in found if t.phrase >= 0} for key, found in by_window.items()}
    rows = []
    for (axis, category, position), found in by_window.items():
        window = Window(counts, timelines[axis], category, position)
        z = window.rising()
        for test, q in found:
            if test.phrase < 0:
                phrases = window.rising_phrases(z)
                since = since_position(by_window, axis, category, position, lambda key: any(
                    t.phrase < 0 for t, _ in by_window[key]))
                rows.append(flag_row(window, test, q, phrases, since, CATEGORY))
        for issue in issues(window, [(t, q) for t, q in found if t.phrase >= 0], names, z):
            lead, q = issue[0]
            phrases = distinct_phrases(sorted({names[t.phrase] for t, _ in issue},
                                              key=lambda p: -z[counts.vocabulary[p]]), counts.settings.phrases)
            since = since_position(by_window, axis, category, position,
                                   lambda key: bool(phrase_flags.get(key, set()) & set(phrases)))
            rows.append(flag_row(window, lead, q, phrases, since, PHRASE))
    return rows


def issues(window: Window, found: list[tuple[Test, float]], names: np.ndarray,
           z: np.ndarray) -> list[list[tuple[Test, float]]]:
    """Flagged phrases of one window grouped: a phrase joins the first (most significant) issue whose lead phrase
    shares a word with it, or is held by a third of the sampled reviews holding the rarer of the two."""
    sample = [set(phrases_of(s.text)) for s in window.counts.samples.get(window.cell, [])]
    holders = {t.phrase: {i for i, held in enumerate(sample) if names[t.phrase] in held} for t, _ in found}
    groups: list[list[tuple[Test, float]]] = []
    for test, q in sorted(found, key=lambda item: (item[1], -z[item[0].phrase])):
        words = set(names[test.phrase].split())
        for group in groups:
            lead = group[0][0]
            shared = holders[test.phrase] & holders[lead.phrase]
            smaller = min(len(holders[test.phrase]), len(holders[lead.phrase]))
            if words & set(names[lead.phrase].split()) or (smaller and len(shared) / smaller >= SAME_ISSUE_OVERLAP):
                group.append((test, q))
                break
        else:
            groups.append([(test, q)])
    return groups


def since_position(by_window: dict, axis: str, category: str, position: int,
                   flagged: Callable[[tuple[str, str, int]], bool]) -> int:
    """The first window of the unbroken run of flagged windows that ends at ``position``."""
    start = position
    while (axis, category, start - 1) in by_window and flagged((axis, category, start - 1)):
        start -= 1
    return start


def flag_row(window: Window, test: Test, q: float, phrases: list[str], since: int, kind: str) -> dict:
    counts, line = window.counts, window.line
    settings = counts.settings
    sample = window.counts.samples.get(window.cell, [])
    matched = examples_for(sample, phrases, settings.examples, fill=kind == CATEGORY)
    holding = [s for s in sample if _holds(s, phrases)] if kind == PHRASE else sample
    ratings = [s.rating for s in holding if not np.isnan(s.rating)]
    after = counts.mean_rating([window.cell]) if kind == CATEGORY else (
        float(np.mean(ratings)) if ratings else float("nan"))
    if line.axis == VERSION:
        versions = [str(window.window)]
    elif kind == CATEGORY:
        versions = [v for v, _ in counts.versions.get(window.cell, Counter()).most_common(3)]
    else:
        versions = [v for v, _ in Counter(s.version for s in holding if s.version).most_common(3)]
    since_window = next(w for w, p in line.windows.items() if p == since) if since in line.windows.values() else None
    return {
        "category": window.category, "kind": kind, "by": line.unit(settings.window),
        "window": line.label(window.window), "since": line.label(since_window) if since_window is not None else "",
        "version": PHRASE_SEPARATOR.join(versions), "count": test.count, "reviews": test.reviews,
        "expected": round(test.expected, 2), "ratio": round(test.ratio, 2), "p_value": q,
        "phrases": PHRASE_SEPARATOR.join(phrases), "rating_before": _round(counts.mean_rating(window.history())),
        "rating_after": _round(after), "examples": EXAMPLE_SEPARATOR.join(" ".join(s.text.split()) for s in matched),
        "_axis": [DATE, VERSION].index(line.axis), "_order": window.position,
    }


def examples_for(sample: list[Sampled], phrases: list[str], limit: int, fill: bool) -> list[Sampled]:
    """The sampled reviews holding most of ``phrases`` (``fill``: others after them, to ``limit``)."""
    scored = [(sum(p in found for p in phrases), s) for s in sample for found in [set(phrases_of(s.text))]]
    ranked = sorted(scored, key=lambda item: (-item[0], -item[1].key))
    return [s for score, s in ranked if score or fill][:limit]


def _holds(sampled: Sampled, phrases: list[str]) -> bool:
    return bool(set(phrases_of(sampled.text)) & set(phrases))


def _round(value: float) -> float | None:
    return None if np.isnan(value) else round(value, 2)
