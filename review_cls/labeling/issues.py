"""Suspected label errors from out-of-sample probabilities (cleanlab's confident learning), worst first, and the
short report a reviewer reads before opening the table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from review_cls.data.prepare import LabeledReviews
from review_cls.data.writers import TableWriter
from review_cls.utils.atomic import atomic_file

ISSUES_CSV = "label_issues.csv"
ISSUES_MD = "label_issues.md"
# cleanlab's ways to decide which reviews are label issues (find_label_issues' filter_by)
FILTERS = ("prune_by_noise_rate", "prune_by_class", "both", "confident_learning", "predicted_neq_given",
           "low_self_confidence", "low_normalized_margin")


def rank_label_issues(reviews: LabeledReviews, labels: list[str], probabilities: np.ndarray,
                      fold: np.ndarray, filter_by: str) -> pd.DataFrame:
    """The reviews cleanlab flags (``find_label_issues`` with ``filter_by``, one of :data:`FILTERS`), sorted by
    self-confidence (the probability of the given label, ``get_label_quality_scores``), lowest first."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    given = reviews.label_ids(labels)
    flagged = find_label_issues(given, probabilities, filter_by=filter_by,
                                return_indices_ranked_by="self_confidence")
    scores = get_label_quality_scores(given, probabilities, method="self_confidence")
    names = np.asarray(labels, dtype=object)
    return pd.DataFrame({
        "row_id": reviews.row_ids[flagged],
        "text": [reviews.texts[i] for i in flagged],
        "given_label": names[given[flagged]],
        "suggested_label": names[probabilities[flagged].argmax(axis=1)],
        "self_confidence": scores[flagged],
        "fold": fold[flagged] + 1,
    })


def write_issue_table(issues: pd.DataFrame, path: Path) -> None:
    with atomic_file(path) as temporary, TableWriter(temporary, "csv", path) as writer:
        writer.write(issues)


def issue_report(issues: pd.DataFrame, reviews: int, source: str, mode: str, folds: int, examples: int) -> str:
    """Markdown: how many reviews look mislabeled, the count per given -> suggested pair, a few examples of each."""
    lines = [f"# Suspected label errors in {source}", "",
             f"{len(issues)} of {reviews} reviews ({len(issues) / reviews:.1%}) look mislabeled "
             f"(audit.model={mode}, {folds} folds; the full list, worst first: {ISSUES_CSV}).", ""]
    if issues.empty:
        return "\n".join(lines)
    pairs = issues.groupby(["given_label", "suggested_label"], sort=False).size().sort_values(ascending=False)
    lines += ["| given | suggested | reviews |", "|---|---|---|"]
    lines += [f"| {given} | {suggested} | {count} |" for (given, suggested), count in pairs.items()]
    for given, suggested in pairs.index:
        rows = issues[(issues["given_label"] == given) & (issues["suggested_label"] == suggested)].head(examples)
        lines += ["", f"## {given} -> {suggested}", ""]
        lines += [f"- ({row.self_confidence:.3f}, row {row.row_id}) {_one_line(row.text)}" for row in rows.itertuples()]
    return "\n".join(lines) + "\n"


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def write_issue_report(text: str, path: Path) -> None:
    with atomic_file(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
