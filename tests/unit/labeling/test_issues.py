"""Suspected label errors from out-of-fold probabilities, worst first, and the report and table a reviewer reads."""

from __future__ import annotations

import numpy as np
import pandas as pd

from review_cls.data.prepare import LabeledReviews
from review_cls.labeling.issues import (
    ISSUES_CSV,
    issue_report,
    rank_label_issues,
    write_issue_report,
    write_issue_table,
)

LABELS = ["bug", "delivery", "price"]


def audited():
    """12 reviews, 4 per class, scored confidently right except rows 102 (bug, looks price) and 107 (delivery,
    looks bug, less sure)."""
    given = ["bug"] * 4 + ["delivery"] * 4 + ["price"] * 4
    probabilities = np.full((12, 3), 0.05)
    for i, label in enumerate(given):
        probabilities[i, LABELS.index(label)] = 0.9
    probabilities[2] = [0.05, 0.05, 0.9]
    probabilities[7] = [0.6, 0.3, 0.1]
    reviews = LabeledReviews(row_ids=np.arange(100, 112), texts=[f"review   {i}\nnumber" for i in range(12)],
                             labels=given, source="reviews.csv")
    return reviews, probabilities, np.arange(12) % 3


def test_flagged_reviews_carry_the_given_and_suggested_label_worst_first():
    reviews, probabilities, fold = audited()
    issues = rank_label_issues(reviews, LABELS, probabilities, fold, "predicted_neq_given")
    assert issues["row_id"].tolist() == [102, 107]
    assert issues["given_label"].tolist() == ["bug", "delivery"]
    assert issues["suggested_label"].tolist() == ["price", "bug"]
    np.testing.assert_allclose(issues["self_confidence"], [0.05, 0.3])
    assert issues["fold"].tolist() == [3, 2], "folds are numbered from 1 as the fold files are"
    assert issues["text"].tolist() == [reviews.texts[2], reviews.texts[7]]


def test_the_report_counts_issues_per_label_pair_with_examples_on_one_line():
    reviews, probabilities, fold = audited()
    issues = rank_label_issues(reviews, LABELS, probabilities, fold, "predicted_neq_given")
    report = issue_report(issues, reviews=len(reviews), source="reviews.csv", mode="tfidf", folds=3, examples=5)
    lines = report.splitlines()
    assert lines[0] == "# Suspected label errors in reviews.csv"
    assert lines[2].startswith("2 of 12 reviews (16.7%) look mislabeled (audit.model=tfidf, 3 folds")
    assert ISSUES_CSV in lines[2]
    assert "| bug | price | 1 |" in lines and "| delivery | bug | 1 |" in lines
    assert "## bug -> price" in lines
    assert "- (0.050, row 102) review 2 number" in lines


def test_examples_are_capped_per_pair_and_long_texts_shortened():
    issues = pd.DataFrame({"row_id": [1, 2, 3], "text": ["word " * 100, "b", "c"], "given_label": ["bug"] * 3,
                           "suggested_label": ["price"] * 3, "self_confidence": [0.1, 0.2, 0.3], "fold": [1, 1, 2]})
    lines = issue_report(issues, reviews=10, source="s.csv", mode="bert", folds=2, examples=2).splitlines()
    examples = [line for line in lines if line.startswith("- (")]
    assert len(examples) == 2
    assert examples[0].endswith("…") and len(examples[0].split(") ", 1)[1]) == 200
    assert "| bug | price | 3 |" in lines


def test_a_clean_file_gets_a_short_report_without_a_table():
    empty = pd.DataFrame(columns=["row_id", "text", "given_label", "suggested_label", "self_confidence", "fold"])
    report = issue_report(empty, reviews=40, source="clean.csv", mode="tfidf", folds=5, examples=3)
    assert "0 of 40 reviews (0.0%) look mislabeled" in report
    assert "| given |" not in report


def test_the_table_and_report_are_written_as_files(tmp_path):
    reviews, probabilities, fold = audited()
    issues = rank_label_issues(reviews, LABELS, probabilities, fold, "predicted_neq_given")
    write_issue_table(issues, tmp_path / ISSUES_CSV)
    back = pd.read_csv(tmp_path / ISSUES_CSV)
    assert back["row_id"].tolist() == [102, 107]
    assert back["suggested_label"].tolist() == ["price", "bug"]
    write_issue_report("# report\n", tmp_path / "label_issues.md")
    assert (tmp_path / "label_issues.md").read_text(encoding="utf-8") == "# report\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == [ISSUES_CSV, "label_issues.md"]
