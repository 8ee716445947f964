"""Label noise: flip a share of a labeled file's labels at random (each to another class, seeded), run the TF-IDF
audit on it (the ``review_cls.audit`` command), and score how many flipped rows it finds.

Reported per filter (``audit.filter_by``): reviews flagged, precision and recall of the flipped rows among them,
and precision among the k worst-ranked flagged reviews, k = the number flipped. The fold probabilities are fitted
once per seed and reused for every filter (the audit resumes from its finished folds). The unflipped file's own
suspected errors (before any flip) are counted too: they are the floor the precision is measured against.

    OMP_NUM_THREADS=1 python -m bench.label_noise --data demo --seeds 0 1 2
    OMP_NUM_THREADS=1 python -m bench.label_noise --data google_play --seeds 0 1 2
    OMP_NUM_THREADS=1 python -m bench.label_noise --data demo --seeds 0 --overrides audit.model=finetune
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import GOOGLE_PLAY, RESULTS, machine, mean_std, require, run_review_cls, save_result

DATA = {"demo": (Path("review_cls/data/demo/shopping_app_reviews_en.csv"), "review", "category"),
        "google_play": (GOOGLE_PLAY, "review", "label")}
FILTERS = ("prune_by_noise_rate", "predicted_neq_given")
WORK = RESULTS / "label_noise_work"


def flipped_copy(frame: pd.DataFrame, label_column: str, share: float, seed: int, target: Path) -> np.ndarray:
    """``frame`` with ``share`` of its rows relabeled to another class drawn at random, written to ``target``;
    returns the flipped row numbers."""
    rng = np.random.default_rng(seed)
    classes = sorted(frame[label_column].astype(str).unique())
    rows = np.sort(rng.choice(len(frame), size=round(share * len(frame)), replace=False))
    noisy = frame.copy()
    noisy[label_column] = noisy[label_column].astype(str)
    for row in rows:
        others = [label for label in classes if label != noisy.at[row, label_column]]
        noisy.at[row, label_column] = others[rng.integers(len(others))]
    target.parent.mkdir(parents=True, exist_ok=True)
    noisy.to_csv(target, index=False)
    return rows


def audit(path: Path, text_column: str, label_column: str, out_dir: Path, filter_by: str,
          overrides: list[str]) -> pd.DataFrame:
    run_review_cls("audit", "data=file", f"data.path={path}", f"data.text_column={text_column}",
                   f"data.label_column={label_column}", f"hydra.run.dir={out_dir}", f"audit.filter_by={filter_by}",
                   *overrides)
    return pd.read_csv(out_dir / "label_issues.csv")


def scores(issues: pd.DataFrame, flipped: np.ndarray) -> dict[str, float]:
    found = np.isin(issues["row_id"].to_numpy(), flipped)
    k = len(flipped)
    return {"flagged": len(issues), "precision": float(found.mean()) if len(issues) else 0.0,
            "recall": float(found.sum() / k), f"precision_at_{k}": float(found[:k].sum() / k)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=sorted(DATA), default="demo")
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--overrides", nargs="*", default=[], help="audit overrides, e.g. audit.model=finetune")
    args = parser.parse_args()
    tag = "_".join([args.data, *(item.split("=")[-1] for item in args.overrides)])
    source, text_column, label_column = DATA[args.data]
    frame = pd.read_csv(require(source)) if source.suffix == ".csv" else pd.read_excel(require(source))
    # the audit reads each text once: a flip of a repeated review's copy would be one it never sees
    frame = frame.dropna(subset=[text_column]).assign(**{text_column: lambda f: f[text_column].astype(str).str.strip()})
    frame = frame.drop_duplicates(subset=[text_column]).reset_index(drop=True)
    clean = WORK / tag / "clean.csv"
    clean.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(clean, index=False)

    def audited(path: Path, filter_by: str) -> pd.DataFrame:
        return audit(path, text_column, label_column, path.with_suffix(""), filter_by, args.overrides)

    floor = {name: len(audited(clean, name)) for name in FILTERS}
    started = time.monotonic()
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in FILTERS}
    for seed in args.seeds:
        noisy = WORK / tag / f"seed{seed}.csv"
        flipped = flipped_copy(frame, label_column, args.share, seed, noisy)
        for name in FILTERS:
            runs[name].append(scores(audited(noisy, name), flipped))
    summary = {name: {metric: mean_std([run[metric] for run in results]) for metric in results[0]}
               for name, results in runs.items()}
    payload = {"data": str(source), "overrides": args.overrides, "rows": len(frame), "share": args.share,
               "seeds": args.seeds, "flagged_before_flipping": floor, "summary": summary, "runs": runs,
               "seconds": time.monotonic() - started, "machine": machine()}
    for name, metrics in summary.items():
        print(f"{name}: flagged before flipping {floor[name]}, "
              + ", ".join(f"{metric} {value['mean']:.3f} ± {value['std']:.3f}" for metric, value in metrics.items()))
    print("->", save_result(f"label_noise_{tag}", payload))


if __name__ == "__main__":
    main()
