"""Synthetic review streams for the monitoring tests: steady weekly categories, and a complaint planted in one week."""

from __future__ import annotations

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from review_cls.monitoring.counts import TrendCounts
from review_cls.monitoring.trend_settings import trend_settings
from tests.helpers import CONF_DIR

TOPICS = {"delivery": ["the parcel came late again", "courier lost my order", "delivery took two weeks"],
          "payment": ["refund never arrived", "charged twice for one order", "coupon did not apply at checkout"]}
PLANTED = "login code never arrives"


def settings(**overrides):
    values = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "trends" / "default.yaml"))
    return trend_settings({**values, **overrides})


def stream(weeks: int = 12, per_week: int = 40, planted_week: int | None = None, planted: int = 30,
           seed: int = 0) -> pd.DataFrame:
    """``per_week`` reviews of each category every week from 2025-01-06 (Mondays), ratings 1-5; with
    ``planted_week``, that week's delivery reviews get ``planted`` more about a login code, rated 1."""
    rng = np.random.default_rng(seed)
    rows = []
    for week in range(weeks):
        day = pd.Timestamp("2025-01-06") + pd.Timedelta(weeks=week)
        for category, texts in TOPICS.items():
            for i in range(rng.poisson(per_week)):
                text = f"{texts[i % len(texts)]} {rng.choice(['sadly', 'again', 'today', 'honestly'])}"
                rows.append((text, category, day + pd.Timedelta(days=int(rng.integers(7))), int(rng.integers(1, 6)),
                             f"2.{week}"))
        if week == planted_week:
            rows += [(f"{PLANTED} so i cannot sign in {i}", "delivery", day + pd.Timedelta(days=2), 1, f"2.{week}")
                     for i in range(planted)]
    return pd.DataFrame(rows, columns=["review", "predicted_label", "date", "rating", "version"])


def counted(frame: pd.DataFrame, chunk: int = 97, **overrides) -> TrendCounts:
    """The frame folded into TrendCounts chunk by chunk."""
    counts = TrendCounts(settings(**overrides), "review", "date", "version" if "version" in frame else None,
                         "rating" if "rating" in frame else None)
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start:start + chunk]
        counts.update(part, part["predicted_label"])
    return counts
