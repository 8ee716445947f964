"""Rebalance the training split only; validation and test keep the natural class mix."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from imblearn.over_sampling import RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler

from review_cls.errors import ConfigError

log = logging.getLogger(__name__)
SAMPLERS = {"undersample": RandomUnderSampler, "oversample": RandomOverSampler}
STRATEGIES = ("none", *SAMPLERS)


def resample_indices(
    labels: list[str] | np.ndarray, strategy: str, sampling_strategy: Any = "auto", seed: int = 0
) -> np.ndarray:
    """Positions of the training rows to keep (repeats allowed when oversampling), in a seeded order.

    ``sampling_strategy`` is passed to imbalanced-learn unchanged, so everything it accepts works
    (``"auto"``, ``"majority"``, a float ratio for two classes, or a dict of class -> count).
    """
    positions = np.arange(len(labels))
    if strategy == "none":  # multi-label data too, which only this strategy accepts (data/label_sets.py)
        return positions
    label_array = np.asarray(labels)
    sampler_class = SAMPLERS[strategy]  # the name was checked with the data settings (review_cls/data/data_settings.py)
    if hasattr(sampling_strategy, "items"):
        sampling_strategy = dict(sampling_strategy.items())
    sampler = sampler_class(sampling_strategy=sampling_strategy, random_state=seed)
    try:
        sampler.fit_resample(positions.reshape(-1, 1), label_array)
    except ValueError as exc:
        raise ConfigError(f"data.resampling.sampling_strategy={sampling_strategy!r} is not usable: {exc}") from exc
    kept = np.asarray(sampler.sample_indices_)
    before = dict(zip(*np.unique(label_array, return_counts=True)))
    after = dict(zip(*np.unique(label_array[kept], return_counts=True)))
    log.info("Resampled the training split (%s): %s -> %s", strategy, before, after)
    return kept
