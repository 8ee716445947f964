"""Active learning, simulated: does labeling the reviews ``review_cls.select`` picks beat labeling random ones?

On a shared set's training split (the split a training run with the seed makes), start from ``--start`` labeled
reviews drawn at random, then add ``--step`` per round chosen by each strategy of review_cls/labeling/strategies.py
(the scores ``review_cls.select`` ranks by) or at random, for ``--rounds`` rounds; after each round the project's
TF-IDF + logistic regression (conf/tfidf/default.yaml) is refitted on the labeled reviews and scored on the test
split. The labels of the picked reviews are the set's own (a perfect annotator). Reported per strategy: test
macro-F1 per round (mean over seeds) and how many labels it took to reach random's final score.

    python -m bench.active_learning --data google_play --seeds 0 1 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.common import GOOGLE_PLAY, clean_splits, fit_tfidf, machine, macro_f1_on, save_result

DATA = {"demo": (Path("review_cls/data/demo/shopping_app_reviews_en.csv"), "review", "category"),
        "google_play": (GOOGLE_PLAY, "review", "label")}
PLOT = Path("docs/active_learning.png")


def fit_and_score(train, test, labels: list[str], chosen: np.ndarray, seed: int) -> tuple[float, np.ndarray]:
    """Fit TF-IDF on the ``chosen`` training reviews; test macro-F1 and the probabilities over the whole pool."""
    from review_cls.models.tfidf import full_probabilities

    ids = np.asarray(train.label_ids(labels))
    pipeline = fit_tfidf([train.texts[i] for i in chosen], ids[chosen], seed)
    return macro_f1_on(pipeline, test, labels), full_probabilities(pipeline, train.texts, len(labels))


def simulate(data: str, strategy: str, seed: int, start: int, step: int, rounds: int) -> list[dict]:
    from review_cls.labeling.strategies import most_uncertain_first, uncertainty

    path, text_column, label_column = DATA[data]
    splits, labels = clean_splits(path, text_column, label_column, seed)
    train, test = splits["train"], splits["test"]
    chosen = np.random.default_rng(seed).choice(len(train), size=start, replace=False)
    curve = []
    for round_number in range(rounds + 1):
        score, probabilities = fit_and_score(train, test, labels, chosen, seed)
        curve.append({"round": round_number, "labeled": len(chosen), "test_f1_macro": score})
        if round_number == rounds:
            break
        pool = np.setdiff1d(np.arange(len(train)), chosen)
        scores = uncertainty(probabilities[pool], strategy, seed + round_number)
        chosen = np.concatenate([chosen, pool[most_uncertain_first(scores)[:step]]])
    return curve


def labels_to_reach(curve: list[dict], target: float) -> float | None:
    """Labels at which a mean curve first reaches ``target`` (linear between rounds); None if it never does."""
    for before, after in zip(curve, curve[1:]):
        if after["test_f1_macro"] >= target:
            if before["test_f1_macro"] >= target:
                return float(before["labeled"])
            share = (target - before["test_f1_macro"]) / (after["test_f1_macro"] - before["test_f1_macro"])
            return before["labeled"] + share * (after["labeled"] - before["labeled"])
    return float(curve[0]["labeled"]) if curve[0]["test_f1_macro"] >= target else None


def plot(mean_curves: dict[str, list[dict]], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.5, 4))
    for strategy, curve in mean_curves.items():
        axis.plot([p["labeled"] for p in curve], [p["test_f1_macro"] for p in curve], marker="o", label=strategy,
                  linestyle="--" if strategy == "random" else "-")
    axis.set(xlabel="labeled training reviews", ylabel="test macro-F1 (mean of seeds)", title=title)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(PLOT, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=sorted(DATA), default="google_play")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--start", type=int, default=100)
    parser.add_argument("--step", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--strategies", nargs="+", default=["random", "least_confidence", "margin", "entropy"])
    args = parser.parse_args()
    curves = {strategy: [simulate(args.data, strategy, seed, args.start, args.step, args.rounds)
                         for seed in args.seeds] for strategy in args.strategies}
    mean_curves = {strategy: [{"labeled": runs[0][i]["labeled"],
                               "test_f1_macro": float(np.mean([run[i]["test_f1_macro"] for run in runs]))}
                              for i in range(len(runs[0]))] for strategy, runs in curves.items()}
    target = mean_curves["random"][-1]["test_f1_macro"]
    reach = {strategy: labels_to_reach(curve, target) for strategy, curve in mean_curves.items()}
    for strategy, curve in mean_curves.items():
        print(strategy, " ".join(f"{p['labeled']}:{p['test_f1_macro']:.3f}" for p in curve),
              f"reaches random's final {target:.3f} at {reach[strategy]}")
    plot(mean_curves, f"{args.data}: TF-IDF, {args.start} + {args.step} per round, seeds {args.seeds}")
    save_result(f"active_learning_{args.data}", {"machine": machine(), "args": vars(args), "curves": curves,
                                                 "mean_curves": mean_curves, "random_final": target,
                                                 "labels_to_reach_random_final": reach})


if __name__ == "__main__":
    main()
