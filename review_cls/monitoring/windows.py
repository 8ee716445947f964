"""The window a review is counted in: the day, week or month of its date (as a period number, so the windows
before a window are its number minus 1, 2, ...), or its app version (in version order: 11.47 < 11.47.1 < 12.3)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from review_cls.monitoring.review_values import usable_dates

# period numbers of unreadable or missing dates and versions
NO_WINDOW = np.iinfo(np.int64).min
VERSION_PART = re.compile(r"\d+|[^\d.\-_ ]+")


def date_windows(values: pd.Series, period: str) -> np.ndarray:
    """Each value's window as a period number (``pd.Period.ordinal`` of ``period``); a date that is not usable
    (unreadable, or out of range: review_cls/monitoring/review_values.py) becomes :data:`NO_WINDOW`. Time zones are
    converted to UTC."""
    stamps = usable_dates(values)
    ordinals = np.full(len(values), NO_WINDOW, dtype=np.int64)
    known = stamps.notna().to_numpy()
    if known.any():
        ordinals[known] = stamps[known].dt.to_period(period).array.asi8
    return ordinals


def window_start(ordinal: int, period: str) -> pd.Timestamp:
    """The first day of a window given by its period number."""
    return pd.Period(ordinal=ordinal, freq=period).start_time


def version_key(version: str) -> tuple:
    """Sort key of an app version: its numbers compared as numbers, 11.47 < 11.47.1 < 11.49 < 12.3."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower())
                 for part in VERSION_PART.findall(version))


def version_values(values: pd.Series) -> pd.Series:
    """The versions as clean strings (a CSV's 11.4 read as a float stays '11.4'); blank ones become missing."""
    text = values.astype("string").str.strip()
    return text.where(text.notna() & (text != ""))
