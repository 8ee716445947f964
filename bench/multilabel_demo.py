"""The packaged English demo reviews as a multi-label file, for a multi-label run on any machine (docs/multilabel.md).

400 texts join two reviews of different categories (label 'a|b', categories drawn by how many reviews are left),
every other demo review stays alone with its category, and 20 texts carry no label; each demo review is used once,
so no sentence is on both sides of a split. Seeded: the same file every time.

    python bench/multilabel_demo.py out.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

DEMO = Path(__file__).resolve().parents[1] / "review_cls" / "data" / "demo" / "shopping_app_reviews_en.csv"
PAIRS, UNLABELED, SEED = 400, 20, 0


def multilabel_demo() -> pd.DataFrame:
    demo = pd.read_csv(DEMO)
    rng = np.random.default_rng(SEED)
    pools = {category: list(rng.permutation(group["review"].tolist())) for category, group in demo.groupby("category")}
    names = sorted(pools)
    rows = []
    while len(rows) < PAIRS:
        left = np.array([len(pools[name]) for name in names], dtype=float)
        first, second = rng.choice(names, size=2, replace=False, p=left / left.sum())
        rows.append((f"{pools[first].pop()} {pools[second].pop()}", "|".join(sorted((first, second)))))
    rows += [(text, name) for name in names for text in pools[name]]
    rows += [(f"nothing to report about this app, review {i}", "") for i in range(UNLABELED)]
    return pd.DataFrame(rows, columns=["review", "category"]).sample(frac=1.0, random_state=SEED)


def main() -> None:
    frame = multilabel_demo()
    frame.to_csv(sys.argv[1], index=False)
    print(f"{len(frame)} reviews, {frame['category'].str.contains('|', regex=False).sum()} with two labels "
          f"-> {sys.argv[1]}")


if __name__ == "__main__":
    main()
