"""The model blended with its TF-IDF baseline, the model's share chosen on validation by each rule of
review_cls/models/blend.py, scored on test, from finished run folders.

A run folder keeps the validation and test probabilities of the model (``val_predictions.csv``,
``test_predictions.csv``) and of its TF-IDF baseline (``baseline/``): per run, test macro-F1 of the model alone,
TF-IDF alone, the fixed 50/50 blend and the blend each rule chooses (its weight); then, per set of the suite's
layout ``<recipe>/<set>/<seed>/...``, the means and gaps to TF-IDF, the mean and worst gap over sets, and the rule
that is best on its worst set. Single- and multi-label runs (multi-label: thresholds chosen on the blended
validation probabilities). Nothing is chosen on test.

    python -m bench.blend_rules 'bench/results/suite_runs/english/*/*' bench/results/suite_runs/chinese
"""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path

import pandas as pd

from review_cls.models.blend import FIXED_WEIGHT, blend, blend_at, fit_blend, macro_f1
from review_cls.reports.predictions import predictions_file
from review_cls.training.run_blend import read_run_predictions
from review_cls.utils.run_folder import BASELINE

# the rows of a run: a fixed model share, or the rule of review_cls/models/blend.py that chooses it on validation
ROWS = {"model": 1.0, "tfidf": 0.0, "50/50": FIXED_WEIGHT, "by val F1": "f1", "by val log-loss": "log_loss"}
RULE_ROWS = ("50/50", "by val F1", "by val log-loss")


def run_scores(run_dir: Path) -> dict[str, float]:
    """Test macro-F1 of every row of :data:`ROWS` (``<row>``) and the weight each used (``<row> w``)."""
    val, test = read_run_predictions(run_dir, "val"), read_run_predictions(run_dir, "test")
    scores: dict[str, float] = {}
    for row, weight_or_rule in ROWS.items():
        if isinstance(weight_or_rule, str):
            chosen = fit_blend(val.model, val.tfidf, val.targets, weight_or_rule)
        else:
            chosen = blend_at(weight_or_rule, val.model, val.tfidf, val.targets)
        scores[row] = macro_f1(blend(test.model, test.tfidf, chosen.weight), test.targets, chosen.thresholds)
        scores[f"{row} w"] = chosen.weight
    return scores


def suite_place(run_dir: Path) -> tuple[str, str, str]:
    """(recipe, set, seed) of ``<recipe>/<set>/<seed>/<experiment>/runs/<time>``; else ('-', folder, '-')."""
    if run_dir.parent.name == "runs" and len(run_dir.parents) > 5:
        return run_dir.parents[4].name, run_dir.parents[3].name, run_dir.parents[2].name
    return "-", str(run_dir), "-"


def finished_runs(patterns: list[str]) -> list[Path]:
    """Run folders under the paths or globs with both predictors' val and test tables; the newest per place."""
    found: dict[tuple[str, str, str], Path] = {}
    for pattern in patterns:
        for root in sorted(map(Path, glob.glob(pattern))) or [Path(pattern)]:
            tables = sorted(root.rglob(predictions_file("val"))) if root.is_dir() else []
            for run_dir in (table.parent for table in tables if is_finished(table.parent)):
                place = suite_place(run_dir)
                if place not in found or modified(run_dir) > modified(found[place]):
                    found[place] = run_dir
    return [found[place] for place in sorted(found)]


def is_finished(run_dir: Path) -> bool:
    """A run folder (not its baseline/) with the val and test tables of the model and of its baseline."""
    tables = [folder / predictions_file(stage) for folder in (run_dir, run_dir / BASELINE) for stage in ("val", "test")]
    return run_dir.name != BASELINE and all(table.is_file() for table in tables)


def modified(run_dir: Path) -> float:
    return (run_dir / predictions_file("test")).stat().st_mtime


def run_rows(runs: list[Path]) -> pd.DataFrame:
    """One row per run: its place in the suite and :func:`run_scores`."""
    rows = [dict(zip(("recipe", "set", "seed"), suite_place(run)), **run_scores(run)) for run in runs]
    return pd.DataFrame(rows)


def markdown_tables(rows: pd.DataFrame) -> str:
    """Per run, then per set (means, gaps to TF-IDF in points), the mean and worst gap over sets, and the rule
    that is best on its worst set, for each recipe."""
    lines = ["| recipe | set | seed | model | TF-IDF | 50/50 | by val F1 (w) | by val log-loss (w) |",
             "|---|---|---|---|---|---|---|---|"]
    for values in rows.to_dict("records"):
        lines.append(f"| {values['recipe']} | {values['set']} | {values['seed']} | {values['model']:.3f} | "
                     f"{values['tfidf']:.3f} | {values['50/50']:.3f} | {values['by val F1']:.3f} "
                     f"({values['by val F1 w']:.2f}) | {values['by val log-loss']:.3f} "
                     f"({values['by val log-loss w']:.2f}) |")
    return "\n".join(lines + ["", set_table(rows)])


def set_table(rows: pd.DataFrame) -> str:
    """Means per (recipe, set), gaps to TF-IDF, then per recipe the mean and worst gap of each row over sets."""
    lines = ["| recipe | set | runs | model | TF-IDF | 50/50 | by val F1 (mean w) | by val log-loss (mean w) | "
             "gaps to TF-IDF: model / 50/50 / by F1 / by log-loss |", "|---|---|---|---|---|---|---|---|---|"]
    verdicts = []
    for recipe, per_recipe in rows.groupby("recipe", sort=True):
        means = per_recipe.groupby("set", sort=True).mean(numeric_only=True)
        counts = per_recipe.groupby("set", sort=True).size()
        gaps = pd.DataFrame({row: 100 * (means[row] - means["tfidf"]) for row in ("model", *RULE_ROWS)})
        for name, mean in means.iterrows():
            gap = " / ".join(f"{gaps.loc[name, row]:+.1f}" for row in gaps.columns)
            lines.append(f"| {recipe} | {name} | {counts[name]} | {mean['model']:.3f} | {mean['tfidf']:.3f} | "
                         f"{mean['50/50']:.3f} | {mean['by val F1']:.3f} ({mean['by val F1 w']:.2f}) | "
                         f"{mean['by val log-loss']:.3f} ({mean['by val log-loss w']:.2f}) | {gap} |")
        summary = " / ".join(f"{gaps[row].mean():+.1f}" for row in gaps.columns)
        worst = " / ".join(f"{gaps[row].min():+.1f} ({gaps[row].idxmin()})" for row in gaps.columns)
        lines.append(f"| {recipe} | mean over sets | | | | | | | {summary} |")
        lines.append(f"| {recipe} | worst set | | | | | | | {worst} |")
        best = max(RULE_ROWS, key=lambda row: (round(gaps[row].min(), 9), row == "50/50"))
        verdicts.append(f"{recipe}: best on its worst set: {best} ({gaps[best].min():+.1f} points over TF-IDF on "
                        f"{gaps[best].idxmin()})")
    return "\n".join(lines + [""] + verdicts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="run folders, or folders / globs to search for finished runs")
    args = parser.parse_args(argv)
    runs = finished_runs(args.runs)
    if not runs:
        sys.exit(f"No finished run folders (val and test predictions of the model and of baseline/) under "
                 f"{' '.join(args.runs)}.")
    print(markdown_tables(run_rows(runs)))


if __name__ == "__main__":
    main()
