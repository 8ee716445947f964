"""Hybrid rows (reported apart from the model-only rows): the fine-tuned model's test probabilities averaged with its
own TF-IDF baseline's at a fixed weight, from finished run folders (``test_predictions.csv`` and
``baseline/test_predictions.csv``, same reviews, read by review_cls.training.run_blend.read_run_predictions). The
weight is fixed (0.5 by default), so nothing is chosen on test; bench/blend_rules.py chooses it on each run's
validation split, as training does.

    python -m bench.hybrid <run dir> [<run dir> ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from review_cls.models.blend import FIXED_WEIGHT, blend, macro_f1
from review_cls.training.run_blend import read_run_predictions


def hybrid_scores(run_dir: Path, weight: float = FIXED_WEIGHT) -> dict[str, float | str]:
    """Test macro-F1 of the model, of TF-IDF and of their probability average, on the run's test split
    (single-label runs: each row's highest probability)."""
    test = read_run_predictions(run_dir, "test")
    return {"run": str(run_dir), "model": macro_f1(test.model, test.targets),
            "tfidf": macro_f1(test.tfidf, test.targets),
            "hybrid": macro_f1(blend(test.model, test.tfidf, weight), test.targets)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--weight", type=float, default=FIXED_WEIGHT, help="the model's share of the average")
    args = parser.parse_args()
    for run_dir in args.runs:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in
                          hybrid_scores(run_dir, args.weight).items()}))


if __name__ == "__main__":
    main()
