"""Size and write time of report.html for 20,000 predicted reviews (synthetic predictions, no model):
the summary's update over 10,000-row chunks, then the page.

    python bench/html_report.py [--rows 20000] [--report-rows 5000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from review_cls.reports.html_report import write_report
from review_cls.reports.insights import InsightSummary

LABELS = ["app bug", "delivery", "payment and pricing", "UI/UX", "product quality", "after-sales service"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--report-rows", type=int, default=5_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 600, args.rows)
    frame = pd.DataFrame({
        "review": ["送货太慢 😡 the app crashes when I pay " * (n // 40 + 1) for n in lengths],
        "predicted_label": rng.choice(LABELS, args.rows), "confidence": rng.uniform(0.2, 1.0, args.rows),
        "date": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24, args.rows), unit="h"),
        "rating": rng.integers(1, 6, args.rows)})
    started = time.perf_counter()
    summary = InsightSummary(LABELS, "review", 5, "date", "rating", args.report_rows)
    for start in range(0, args.rows, 10_000):
        summary.update(frame.iloc[start:start + 10_000])
    folded = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.html"
        write_report(summary, path, "reviews.csv", "none.ckpt")
        written = time.perf_counter()
        size = path.stat().st_size
    print(f"rows={args.rows} report_rows={args.report_rows} size={size / 1e6:.2f} MB "
          f"summary={folded - started:.2f} s page={written - folded:.2f} s")


if __name__ == "__main__":
    main()
