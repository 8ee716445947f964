"""Peak memory of ``python -m review_cls.trends`` as a predictions file grows to 1M rows: it must stay flat (the
counts, samples and phrase vocabulary are bounded, whatever the file's length).

A harder stream than predict_memory's: the demo reviews repeated, each with two words drawn from 200,000 made-up
ones (so the phrase vocabulary keeps growing and is pruned), dates over two years, 40 app versions, and the
demo's categories as predictions.

    python -m bench.trends_memory --rows 10000 200000 1000000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import machine, save_result
from bench.predict_memory import peak_rss
from tests.helpers import DEMO_CSV

CHUNK_SIZE = 10_000


def made_up(number: int) -> str:
    """A word of letters only (phrases are runs of letters): 0 -> 'zqaaaa', 1 -> 'zqbaaa' ..."""
    letters = []
    for _ in range(4):
        number, digit = divmod(number, 26)
        letters.append(chr(ord("a") + digit))
    return "zq" + "".join(letters)


def synthetic_predictions(rows: int, folder: Path) -> Path:
    rng = np.random.default_rng(0)
    demo = pd.read_csv(DEMO_CSV)
    labels = sorted(demo["category"].unique())
    path = folder / f"predictions_{rows}.csv"
    for start in range(0, rows, 100_000):
        n = min(100_000, rows - start)
        part = demo.sample(n, replace=True, random_state=start).reset_index(drop=True)
        extra = rng.integers(0, 200_000, (n, 2))
        frame = pd.DataFrame({
            "review": part["review"] + [f" {made_up(a)} {made_up(b)}" for a, b in extra],
            "date": (pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")).strftime(
                "%Y-%m-%d"),
            "rating": part["rating"], "version": [f"3.{v}" for v in rng.integers(0, 40, n)],
            "predicted_label": part["category"], "confidence": rng.uniform(0.3, 1.0, n),
            **{f"prob_{label}": (part["category"] == label).astype(float) for label in labels}})
        frame.to_csv(path, index=False, mode="a" if start else "w", header=not start)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 200_000])
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="trends_memory_") as scratch:
        for rows in args.rows:
            source = synthetic_predictions(rows, Path(scratch))
            command = [sys.executable, "-m", "review_cls.trends", f"input={source}", f"output={scratch}/out_{rows}",
                       f"chunk_size={CHUNK_SIZE}", "report=false"]
            peak, seconds, code = peak_rss(command)
            if code != 0:
                raise SystemExit(f"trends failed on {rows} rows (exit {code})")
            flags = len(pd.read_csv(Path(scratch) / f"out_{rows}" / "emerging.csv"))
            results.append({"rows": rows, "input_mb": source.stat().st_size / 2**20, "peak_rss_mb": peak / 2**20,
                            "wall_s": seconds, "flags": flags})
            print(results[-1], flush=True)
            source.unlink()
    save_result("trends_memory", {"machine": machine(), "chunk_size": CHUNK_SIZE, "results": results})


if __name__ == "__main__":
    main()
