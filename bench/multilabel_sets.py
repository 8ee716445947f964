"""Multi-label review files built from single-label sets: pairs of reviews of two categories joined into one text
(label ``a|b``), every other review kept with its own label (texts filed under two labels stay as rows: a
multi-label run merges them). Reviews whose text occurs twice are never joined, so no sentence sits on both sides of
a split. Seeded: the same file every time.

    python -m bench.multilabel_sets demo demo_multilabel.csv
    python -m bench.multilabel_sets google_play bench/results/cost_work/google_play_multilabel.csv
    python -m bench.multilabel_sets clap bench/results/cost_work/clap_multilabel.csv
    python -m bench.multilabel_sets --split-balance       # iterative stratification vs a random split, 3 seeds
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import CLAP, GOOGLE_PLAY, WORK, require

DEMO = Path(__file__).resolve().parents[1] / "review_cls" / "data" / "demo" / "shopping_app_reviews_en.csv"
SEED = 0


def join_pairs(frame: pd.DataFrame, pairs: int, seed: int = SEED) -> pd.DataFrame:
    """``frame`` (columns review, category) with ``pairs`` texts that join two reviews of different categories, the
    categories drawn by how many joinable reviews each has left (rare ones are joined in proportion); unshuffled."""
    rng = np.random.default_rng(seed)
    once = ~frame["review"].duplicated(keep=False)
    pools = {category: list(rng.permutation(group["review"].tolist()))
             for category, group in frame[once].groupby("category")}
    names = sorted(pools)
    rows = []
    while len(rows) < pairs:
        left = np.array([len(pools[name]) for name in names], dtype=float)
        first, second = rng.choice(names, size=2, replace=False, p=left / left.sum())
        rows.append((f"{pools[first].pop()} {pools[second].pop()}", "|".join(sorted((first, second)))))
    rows += [(text, name) for name in names for text in pools[name]]
    rows += list(frame.loc[~once, ["review", "category"]].itertuples(index=False, name=None))
    return pd.DataFrame(rows, columns=["review", "category"])


def demo() -> pd.DataFrame:
    """The packaged demo: 400 joined pairs, the other reviews alone, and 20 texts that carry no label."""
    frame = join_pairs(pd.read_csv(DEMO)[["review", "category"]], pairs=400)
    unlabeled = pd.DataFrame({"review": [f"nothing to report about this app, review {i}" for i in range(20)],
                              "category": ""})
    return pd.concat([frame, unlabeled], ignore_index=True).sample(frac=1.0, random_state=SEED)


def google_play() -> pd.DataFrame:
    """Google Play's 4,000 reviews (4 labels): 800 joined pairs."""
    frame = pd.read_excel(require(GOOGLE_PLAY)).rename(columns={"label": "category"})
    return join_pairs(frame[["review", "category"]].dropna(), pairs=800).sample(frac=1.0, random_state=SEED)


def clap() -> pd.DataFrame:
    """CLAP's 3,000 reviews (7 categories, 30:1): 500 joined pairs."""
    frame = pd.read_csv(require(CLAP), na_values="?")
    return join_pairs(frame[["review", "category"]].dropna(), pairs=500).sample(frac=1.0, random_state=SEED)


BUILDERS = {"demo": demo, "google_play": google_play, "clap": clap}


def multilabel_path(name: str) -> Path:
    """Where ``multilabel_file(name)`` writes the multi-label version of a shared set."""
    return WORK / f"{name}_multilabel.csv"


def multilabel_file(name: str) -> Path:
    """The multi-label version of a shared set under bench/results/cost_work, written on first use."""
    path = multilabel_path(name)
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        BUILDERS[name]().to_csv(path, index=False)
    return path


def split_balance(name: str, seeds: tuple[int, ...] = (0, 1, 2), val_size: float = 0.1,
                  test_size: float = 0.1) -> dict[str, dict[str, float]]:
    """How far a label's share in train, val or test strays from its share in the whole file (the largest gap over
    labels and splits, in points, mean over seeds), for the split training uses and for a random one."""
    from review_cls.data.label_sets import indicator_matrix
    from review_cls.data.stratify import iterative_split

    frame = pd.read_csv(multilabel_file(name), keep_default_na=False)
    label_sets = [tuple(cell.split("|")) if cell else () for cell in frame["category"]]
    targets = indicator_matrix(label_sets, sorted({label for labels in label_sets for label in labels}))
    whole = targets.mean(axis=0)

    def random_split(seed: int) -> dict[str, np.ndarray]:
        order = np.random.default_rng(seed).permutation(len(targets))
        test, val = round(test_size * len(order)), round(val_size * len(order))
        return {"test": order[:test], "val": order[test:test + val], "train": order[test + val:]}

    splitters = {"iterative": lambda seed: iterative_split(targets, val_size, test_size, seed), "random": random_split}
    return {method: {"largest_gap_points": 100 * float(np.mean([
        max(np.abs(targets[rows].mean(axis=0) - whole).max() for rows in split(seed).values()) for seed in seeds]))}
        for method, split in splitters.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("name", nargs="?", choices=sorted(BUILDERS))
    parser.add_argument("out", nargs="?", type=Path)
    parser.add_argument("--split-balance", action="store_true")
    args = parser.parse_args()
    if args.split_balance:
        for name in ("google_play", "clap"):
            print(name, split_balance(name))
        return
    if not (args.name and args.out):
        parser.error("give a set name and an output file (or --split-balance)")
    frame = BUILDERS[args.name]()
    frame.to_csv(args.out, index=False)
    print(f"{len(frame)} reviews, {frame['category'].str.contains('|', regex=False).sum()} with two labels "
          f"-> {args.out}")


if __name__ == "__main__":
    main()
