"""What a usable review date and rating are, decided here for the insights and for what changed alike: a date pandas
reads between :data:`FIRST_DATE` and :data:`LAST_DATE`, a finite rating within ``trends.rating_range``. Any other
value is left out of the windows, charts and means, and counted with a few examples so the run can say how many
values of which column it left out."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# reviews online start in the 1990s; a date before or this far after is a placeholder or a typo (1677-09-22 and
# 2262-04-11 are the limits pandas can hold, what a date out of range often becomes), and every week between such
# a date and the real ones would be a window of its own (30,539 weeks from 1677 to 2262)
FIRST_DATE, LAST_DATE = pd.Timestamp("1990-01-01"), pd.Timestamp("2100-01-01")
DATE_RANGE = f"from {FIRST_DATE.date()} to {(LAST_DATE - pd.Timedelta(days=1)).date()}"
# values of a column quoted in a warning
EXAMPLES = 3


def usable_dates(values: pd.Series) -> pd.Series:
    """Each value as a naive timestamp (time zones converted to UTC); NaT where it is missing, unreadable or
    outside :data:`FIRST_DATE` .. :data:`LAST_DATE`."""
    # format="mixed": each value parsed on its own (one format guessed from the first value would drop the others)
    stamps = pd.to_datetime(values, errors="coerce", utc=True, format="mixed").dt.tz_convert(None)
    return stamps.where((stamps >= FIRST_DATE) & (stamps < LAST_DATE))


def usable_ratings(values: pd.Series, rating_range: tuple[float, float] | None = None) -> np.ndarray:
    """Each value as a float; NaN where it is missing, not a number, infinite or outside ``rating_range`` (when
    given)."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, copy=True)
    low, high = rating_range if rating_range is not None else (-np.inf, np.inf)
    with np.errstate(invalid="ignore"):
        numbers[~(np.isfinite(numbers) & (numbers >= low) & (numbers <= high))] = np.nan
    return numbers


@dataclass
class LeftOut:
    """The values of one column that were there but unusable: how many, and the first few distinct ones as the file
    holds them."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, raw: pd.Series, unusable: np.ndarray) -> None:
        """Count the cells of ``raw`` that hold a value (not blank) where ``unusable`` is true."""
        given = raw.notna().to_numpy() & (raw.astype(str).str.strip() != "").to_numpy()
        bad = raw.to_numpy()[given & np.asarray(unusable, dtype=bool)]
        self.count += len(bad)
        for value in dict.fromkeys(map(str, bad)):
            if len(self.examples) < EXAMPLES and value not in self.examples:
                self.examples.append(value)
