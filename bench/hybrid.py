"""Hybrid rows (reported apart from the model-only rows): the fine-tuned model's test probabilities
averaged with its own TF-IDF baseline's, from finished run folders (``test_predictions.csv`` and
``baseline/test_predictions.csv``, same reviews). The weight is fixed at 0.5, so nothing is chosen on test;
bench/blend_rules.py chooses it on each run's validation split.

    python -m bench.hybrid <run dir> [<run dir> ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
from sklearn.metrics import f1_score


def model_and_tfidf_predictions(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A finished run's test predictions and its TF-IDF baseline's, both indexed by ``row_id`` in the same order."""
    model = pd.read_csv(run_dir / "test_predictions.csv").set_index("row_id").sort_index()
    tfidf = pd.read_csv(run_dir / "baseline" / "test_predictions.csv").set_index("row_id").sort_index()
    if not model.index.equals(tfidf.index):
        raise SystemExit(f"{run_dir}: the model and the baseline scored different test reviews.")
    return model, tfidf


def hybrid_scores(run_dir: Path, weight: float = 0.5) -> dict[str, float]:
    """Test macro-F1 of the model, of TF-IDF and of their probability average, on the run's test split."""
    model, tfidf = model_and_tfidf_predictions(run_dir)
    columns = [c for c in model.columns if c.startswith("prob_")]
    mixed = weight * model[columns] + (1 - weight) * tfidf[columns]
    predicted = mixed.idxmax(axis=1).str.removeprefix("prob_")
    truth = model["true_label"].astype(str)
    return {"run": str(run_dir), "model": f1_score(truth, model["predicted_label"].astype(str), average="macro"),
            "tfidf": f1_score(truth, tfidf["predicted_label"].astype(str), average="macro"),
            "hybrid": f1_score(truth, predicted, average="macro")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--weight", type=float, default=0.5, help="the model's share of the average")
    args = parser.parse_args()
    for run_dir in args.runs:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in
                          hybrid_scores(run_dir, args.weight).items()}))


if __name__ == "__main__":
    main()
