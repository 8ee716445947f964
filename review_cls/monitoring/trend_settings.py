"""The ``trends`` config group (conf/trends/default.yaml) as one checked, frozen object: what counts as a window,
how much history a test needs, when a rise is flagged, how topics are found."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from omegaconf import DictConfig, OmegaConf

from review_cls.data.io import check_encoding, checked_sep
from review_cls.errors import ConfigError
from review_cls.utils.hardware import resolve_device
from review_cls.utils.settings import column_name, whole_number

# window name -> the pandas period it counts dates in (weeks start on Monday, as the weekly chart's)
WINDOWS = {"day": "D", "week": "W-SUN", "month": "M"}
AUTO = "auto"


@dataclass(frozen=True)
class TrendSettings:
    """Every setting of the ``trends`` group; see conf/trends/default.yaml for what each one means."""

    window: str
    history: int
    min_history: int
    min_reviews: int
    min_phrase_reviews: int
    alpha: float
    min_ratio: float
    phrases: int
    examples: int
    window_sample: int
    max_phrases: int
    rating_range: tuple[float, float]
    topics: int | None  # None: chosen by the silhouette
    max_topics: int
    min_topic_size: int
    topic_sample: int
    topic_words: int
    topic_examples: int

    @property
    def period(self) -> str:
        return WINDOWS[self.window]


def trend_settings(group: DictConfig | Mapping[str, Any] | None, prefix: str = "trends.") -> TrendSettings:
    """Check every value of the group (a ConfigError names ``trends.<key>``) and return it as one object."""
    values = OmegaConf.to_container(group, resolve=True) if isinstance(group, DictConfig) else dict(group or {})
    expected = {field.name for field in fields(TrendSettings)}
    unknown = sorted(set(values) - expected)
    missing = sorted(expected - set(values))
    if unknown or missing:
        raise ConfigError(f"The {prefix.rstrip('.')} settings " + (f"have unknown keys {unknown}" if unknown else
                          f"lack {missing}") + "; see conf/trends/default.yaml.")
    if values["window"] not in WINDOWS:
        raise ConfigError(f"{prefix}window={values['window']!r} is not a window; use one of {', '.join(WINDOWS)}.")
    whole = {key: whole_number(values, key, minimum, prefix) for key, minimum in (
        ("history", 1), ("min_history", 1), ("min_reviews", 1), ("min_phrase_reviews", 1), ("phrases", 1),
        ("examples", 0), ("window_sample", 0), ("max_phrases", 100), ("max_topics", 2), ("min_topic_size", 2),
        ("topic_sample", 10), ("topic_words", 1), ("topic_examples", 0))}
    if whole["min_history"] > whole["history"]:
        raise ConfigError(f"{prefix}min_history={whole['min_history']} is more than {prefix}history="
                          f"{whole['history']}: no window could ever be tested.")
    alpha = _fraction(values, "alpha", prefix)
    ratio = values["min_ratio"]
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not ratio >= 1:
        raise ConfigError(f"{prefix}min_ratio must be a number >= 1 (2: twice the expected count), got {ratio!r}.")
    return TrendSettings(window=values["window"], alpha=alpha, min_ratio=float(ratio),
                         rating_range=_range(values, "rating_range", prefix), topics=_topics(values, prefix), **whole)


def _fraction(values: Mapping[str, Any], key: str, prefix: str) -> float:
    value = values[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ConfigError(f"{prefix}{key} must be a number between 0 and 1 (e.g. 0.01), got {value!r}.")
    return float(value)


def _range(values: Mapping[str, Any], key: str, prefix: str) -> tuple[float, float]:
    value = values[key]
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value) or not value[0] < value[1]):
        raise ConfigError(f"{prefix}{key} must be two numbers, lowest first (e.g. [0, 10]), got {value!r}.")
    return float(value[0]), float(value[1])


def _topics(values: Mapping[str, Any], prefix: str) -> int | None:
    value = values["topics"]
    if value == AUTO:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{prefix}topics must be auto or a whole number >= 1, got {value!r}.")
    return value


def check_stream_settings(cfg: DictConfig) -> None:
    """The settings ``predict`` and ``trends`` share: the review table's columns, how it is read, the device and
    the ``trends`` group, checked before the table is opened."""
    column_name(cfg, "text_column")
    for key in ("date_column", "rating_column", "version_column"):
        column_name(cfg, key, optional=True)
    check_encoding(str(cfg.encoding), "encoding")
    checked_sep(cfg.get("sep"), "sep")
    resolve_device(cfg.device)
    trend_settings(cfg.trends)
