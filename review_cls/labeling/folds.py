"""Out-of-sample class probabilities by stratified k-fold: each review is scored by a model fitted without it, and
each finished fold is saved at once, so a stopped audit resumes after its last finished fold."""

from __future__ import annotations

import json
import logging
import time
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from review_cls.data.prepare import LabeledReviews
from review_cls.errors import ConfigError, DataError
from review_cls.utils.atomic import atomic_file

log = logging.getLogger(__name__)
# fit on the first reviews, return probabilities (one column per label, in the audit's label order) for the second
FitPredict = Callable[[LabeledReviews, LabeledReviews, Path], np.ndarray]


def check_fold_counts(reviews: LabeledReviews, folds: int) -> None:
    """Every class needs a review in every held-out fold, or its fold models never learn it."""
    counts = pd.Series(reviews.labels).value_counts()
    if len(counts) < 2:
        raise DataError(f"'{reviews.source}' has a single class; an audit needs at least two.")
    too_small = counts[counts < folds]
    if not too_small.empty:
        raise DataError(
            f"Class(es) with fewer reviews than audit.folds={folds} in '{reviews.source}': "
            + ", ".join(f"{label!r} has {count}" for label, count in too_small.items())
            + (f". Lower audit.folds to {int(too_small.min())} or less, add" if too_small.min() >= 2 else ". Add")
            + f" reviews of those classes, or leave them out with data.min_class_count={folds}."
        )


def fold_of_rows(labels: list[str], folds: int, seed: int) -> np.ndarray:
    """The held-out fold (0-based) of each review: sklearn's seeded StratifiedKFold."""
    from sklearn.model_selection import StratifiedKFold

    assignment = np.empty(len(labels), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (_, held) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        assignment[held] = fold
    return assignment


# beside the fold files: the settings their models were fitted with
FOLD_SETTINGS = "settings.json"


def check_fold_settings(folder: Path, settings: Mapping[str, Any]) -> None:
    """Finished folds are read back only by an audit with the settings they were fitted with: the first fold
    records them (``settings.json``), and a rerun with other settings is refused naming what changed, since fold
    models fitted two ways would be ranked as one."""
    record = folder / FOLD_SETTINGS
    current = json.loads(json.dumps(settings, sort_keys=True, default=str))
    if not record.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_file(record) as temporary:
            temporary.write_text(json.dumps(current, indent=1, sort_keys=True), encoding="utf-8")
        return
    try:
        recorded = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read '{record}': {exc}. Delete the folder '{folder}' to fit its folds again.") from exc
    before, now = flat(recorded), flat(current)
    changed = sorted(key for key in before.keys() | now.keys() if before.get(key) != now.get(key))
    if changed:
        shown = ", ".join(f"{key}: {before.get(key)!r} -> {now.get(key)!r}" for key in changed[:5])
        raise ConfigError(f"The finished folds in '{folder}' were fitted with other settings ({shown}"
                          f"{', ...' if len(changed) > 5 else ''}). Rerun with the settings of that audit, delete "
                          "the folder to fit its folds again, or set hydra.run.dir to a new folder.")


def flat(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"model": {"lr": 2e-5}}`` as ``{"model.lr": 2e-5}``."""
    found: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, Mapping):
            found.update(flat(value, f"{prefix}{key}."))
        else:
            found[f"{prefix}{key}"] = value
    return found


def out_of_sample_probabilities(reviews: LabeledReviews, labels: list[str], fold: np.ndarray, folder: Path,
                                fit_predict: FitPredict) -> np.ndarray:
    """Probabilities (N x C) for every review from the fold model that did not see it; ``folder/fold_<k>.npz``
    holds each finished fold, and a fold whose file is there is read back instead of fitted again."""
    probabilities = np.empty((len(reviews), len(labels)), dtype=np.float64)
    folds = int(fold.max()) + 1
    for k in range(folds):
        held = fold == k
        path = folder / f"fold_{k + 1}.npz"
        saved = read_fold(path, reviews.row_ids[held], labels)
        if saved is not None:
            log.info("Fold %d/%d: finished in an earlier run, read from %s.", k + 1, folds, path)
            probabilities[held] = saved
            continue
        started = time.monotonic()
        log.info("Fold %d/%d: fitting on %d reviews, scoring %d held out.", k + 1, folds, int((~held).sum()),
                 int(held.sum()))
        probabilities[held] = fit_predict(reviews.take(~held), reviews.take(held), folder / f"fold_{k + 1}")
        write_fold(path, reviews.row_ids[held], labels, probabilities[held])
        log.info("Fold %d/%d: done in %.1fs -> %s", k + 1, folds, time.monotonic() - started, path)
    return probabilities


def write_fold(path: Path, row_ids: np.ndarray, labels: list[str], probabilities: np.ndarray) -> None:
    with atomic_file(path) as temporary, open(temporary, "wb") as file:
        np.savez(file, row_ids=row_ids, labels=np.asarray(labels, dtype=str), probabilities=probabilities)


def read_fold(path: Path, row_ids: np.ndarray, labels: list[str]) -> np.ndarray | None:
    """A finished fold's probabilities; ``None`` when it is not there yet. One written for other reviews, labels or
    folds is refused: mixing it in would score reviews with a model that saw them. A damaged one (cut short, edited,
    not a fold file) is refused with the advice to delete it."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            same = np.array_equal(saved["row_ids"], row_ids) and saved["labels"].tolist() == labels
            probabilities = np.asarray(saved["probabilities"], dtype=np.float64)
    # a copy cut short is not a zip archive (BadZipFile) or ends inside one (EOFError); another file is no archive
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile) as exc:
        raise DataError(f"Cannot read the finished fold '{path}': {exc}. Delete it to fit that fold again.") from exc
    if not same:
        raise ConfigError(
            f"'{path}' was written by an audit of other reviews, labels, audit.folds or seed. Resume only with the "
            "settings of that run, or write to a new run folder."
        )
    if probabilities.shape != (len(row_ids), len(labels)) or not np.all((probabilities >= 0) & (probabilities <= 1)):
        raise DataError(f"Cannot read the finished fold '{path}': it does not hold a probability in [0, 1] for each "
                        f"of its {len(row_ids)} reviews and {len(labels)} labels. Delete it to fit that fold again.")
    return probabilities
