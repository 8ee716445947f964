"""Is a window's count above what its history leads to expect? One-sided exact tests (scipy.stats) and the
Benjamini-Hochberg correction over all the tests of a run.

Both tests condition on the history's own count, so a history of a few reviews is not taken as exact (a binomial or
Poisson test against a fixed history rate is, and flags noise):
- a share (a category among all reviews, a phrase among a category's reviews): Fisher's exact test, one-sided, as
  the hypergeometric tail;
- a count (the whole stream as one category, where shares say nothing): the two Poisson rates compared through the
  binomial split of the two counts (the exact conditional test).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom, hypergeom


def share_rise_p(count: np.ndarray, total: np.ndarray, history_count: np.ndarray,
                 history_total: np.ndarray) -> np.ndarray:
    """P(a share this high or higher | the window and its history share one rate): ``count`` of ``total`` reviews
    in the window against ``history_count`` of ``history_total`` before it."""
    count, total, history_count, history_total = (np.asarray(a, dtype=np.int64)
                                                  for a in (count, total, history_count, history_total))
    return hypergeom.sf(count - 1, total + history_total, count + history_count, total)


def count_rise_p(count: np.ndarray, history_count: np.ndarray, history_windows: np.ndarray) -> np.ndarray:
    """P(a count this high or higher | one Poisson rate per window over the window and its ``history_windows``):
    given the sum, the window's count is binomial with probability 1 / (history_windows + 1)."""
    count, history_count = np.asarray(count, dtype=np.int64), np.asarray(history_count, dtype=np.int64)
    return binom.sf(count - 1, count + history_count, 1.0 / (np.asarray(history_windows, dtype=np.float64) + 1.0))


def benjamini_hochberg(p_values: np.ndarray, tests: int | None = None) -> np.ndarray:
    """Adjusted p-values controlling the false discovery rate: p x tests / rank, then the smallest of those at
    this rank or above (scipy's ``false_discovery_control`` when ``p_values`` are all the tests).

    ``tests``: how many tests were made when ``p_values`` holds only those below alpha (the rest, at or above alpha,
    can neither be flagged nor lower these: every adjusted value they would give is at least alpha), so a run
    need not keep a p-value per test; scipy takes no such count, hence these few lines.

    Benjamini-Hochberg rather than Holm: a run makes thousands of tests (every phrase of every window), where Holm's
    family-wise bound misses real rises; when nothing has changed the two bound the same thing (the chance of any
    false flag)."""
    p_values = np.asarray(p_values, dtype=np.float64)
    if not p_values.size:
        return p_values
    order = np.argsort(p_values, kind="stable")
    scaled = p_values[order] * (p_values.size if tests is None else tests) / np.arange(1, p_values.size + 1)
    adjusted = np.empty_like(p_values)
    adjusted[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return adjusted
