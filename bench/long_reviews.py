"""Does the model lose to TF-IDF on the reviews it truncates? A finished run's test reviews split by whether their
token count (the run's own tokenizer) exceeds the run's ``max_length``; accuracy and macro-F1 of the model and of its
TF-IDF baseline (which reads every word) on each part.

    python -m bench.long_reviews <run dir> [<run dir> ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from review_cls.inference.predictor import load_predictor
from review_cls.training.run_blend import read_run_predictions


def length_breakdown(run_dir: Path) -> dict[str, dict[str, float]]:
    """Per part (``fits``, ``truncated``): review count, then model and TF-IDF accuracy and macro-F1."""
    predictor = load_predictor(min((run_dir / "checkpoints").glob("best*.ckpt")), blend=False)  # its tokenizer
    test = read_run_predictions(run_dir, "test")
    encoded = predictor.tokenizer(test.texts, verbose=False)
    truncated = np.array([len(ids) for ids in encoded["input_ids"]]) > predictor.max_length
    parts = {}
    for part, rows in (("fits", ~truncated), ("truncated", truncated)):
        parts[part] = {"reviews": int(rows.sum())}
        for name, probabilities in (("model", test.model), ("tfidf", test.tfidf)):
            predicted = probabilities[rows].argmax(axis=1)
            parts[part][f"{name}_accuracy"] = round(accuracy_score(test.targets[rows], predicted), 4)
            parts[part][f"{name}_f1_macro"] = round(f1_score(test.targets[rows], predicted, average="macro"), 4)
    return {"max_length": predictor.max_length, **parts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args()
    for run_dir in args.runs:
        print(json.dumps({"run": str(run_dir), **length_breakdown(run_dir)}))


if __name__ == "__main__":
    main()
