"""Multi-label input: how several labels per review are given (one cell split on a separator, or one 0/1 column per
label), duplicate texts merged into one row with the union of their labels, and the checks on both."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from review_cls.errors import ConfigError, DataError

log = logging.getLogger(__name__)
TASKS = ("single", "multilabel", "auto")
# torchmetrics and the per-label reports stay readable up to here; more labels is a taxonomy, not a review tag set
MAX_LABELS = 64
# data.task=auto reads one label per row as multi-label only when at least this share of the distinct texts is filed
# under several labels. Below it they are label noise: 0.5% of Google Play's balanced sets (38 of 7,666 texts),
# 0.16% of its 4,000 reviews, 0.05% of the Chinese shopping reviews, none in CLAP or the hotel reviews (../shared/
# data); multi-label review sets carry two labels on a fifth or more of their texts (bench/multilabel_sets.py).
MULTILABEL_SHARE = 0.05
# what joins several labels in one cell when the file was written by hand or a spreadsheet
LIKELY_SEPARATORS = ("|", ";", ",", "/", "+", "&")
LabelSet = tuple[str, ...]


class MultiLabelError(DataError):
    """The labels cannot be read as one multi-label set per review."""


@dataclass(frozen=True)
class LabelSpec:
    """How the label column(s) are read: ``task`` is single | multilabel | auto; ``separator`` splits one cell into
    several labels; ``columns`` names one 0/1 column per label (then the label column is not read)."""

    task: str = "single"
    separator: str | None = None
    columns: tuple[str, ...] = ()

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> LabelSpec:
        """From the data settings (``data.task``, ``data.label_separator``, ``data.label_columns``)."""
        columns = data["label_columns"]
        return cls(str(data["task"]), data["label_separator"], tuple(columns or ()))

    @property
    def gives_sets(self) -> bool:
        """Several labels per row are spelled out (a separator or 0/1 columns): the data is multi-label."""
        return bool(self.separator or self.columns)

    @property
    def multilabel_before_reading(self) -> bool:
        return self.task == "multilabel" or self.gives_sets


SINGLE = LabelSpec()


def check_label_spec(data: Mapping[str, Any]) -> None:
    """``data.task``, ``data.label_separator`` and ``data.label_columns`` that cannot go together, before any read."""
    task, separator, columns = data["task"], data["label_separator"], data["label_columns"]
    if task not in TASKS:
        raise ConfigError(f"data.task={task!r} is not a task; use single, multilabel or auto.")
    if separator is not None and (not isinstance(separator, str) or separator.strip() == ""):
        raise ConfigError(f"data.label_separator={separator!r} must be a non-blank string such as '|' or ';' "
                          "(quote it: \"data.label_separator='|'\").")
    if columns is not None and (isinstance(columns, str) or not all(isinstance(c, str) for c in columns) or not columns):
        raise ConfigError(f"data.label_columns must be a list of column names, e.g. [bug, pricing]; got {columns!r}.")
    if separator and columns:
        raise ConfigError("data.label_separator and data.label_columns both set: give the labels one way, either "
                          "one column split on the separator or one 0/1 column per label.")
    if task == "single" and (separator or columns):
        given = f"data.label_separator={separator!r}" if separator else f"data.label_columns={list(columns)}"
        raise ConfigError(f"{given} gives several labels per review, but data.task=single: set data.task=multilabel "
                          "(or auto), or remove the setting.")
    if columns and len(columns) > MAX_LABELS:
        raise too_many_labels(len(columns), "data.label_columns")


def too_many_labels(count: int, where: str) -> ConfigError:
    return ConfigError(f"{where} holds {count} distinct labels; multi-label training supports at most {MAX_LABELS}. "
                       "Merge rare labels, or drop them from the data.")


def cell_label_sets(values: pd.Series, separator: str) -> list[LabelSet]:
    """Each cell split on ``separator`` into a sorted set of stripped labels; an empty cell is "none of these"."""
    sets = []
    for value in values.to_numpy(dtype=object):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            sets.append(())
            continue
        text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        sets.append(tuple(sorted({part.strip() for part in text.split(separator) if part.strip()})))
    return sets


def column_label_sets(frame: pd.DataFrame, columns: Sequence[str], source: str) -> list[LabelSet]:
    """One 0/1 column per label: each row's set is the columns holding 1 (True counts as 1)."""
    indicator = np.zeros((len(frame), len(columns)), dtype=bool)
    for position, column in enumerate(columns):
        values = frame[column]
        numbers = pd.to_numeric(values.map(lambda v: float(v) if isinstance(v, (bool, np.bool_)) else v),
                                errors="coerce")
        bad = ~numbers.isin([0, 1])
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            value = values.iloc[row].item() if hasattr(values.iloc[row], "item") else values.iloc[row]
            raise MultiLabelError(
                f"Label column '{column}' in '{source}' must hold 0 or 1 (data.label_columns), but file line "
                f"{values.index[row] + 2} holds {value!r}. Mark each label with 1 where it applies and 0 elsewhere.")
        indicator[:, position] = numbers.to_numpy() == 1
    empty = [column for column, used in zip(columns, indicator.any(axis=0)) if not used]
    if empty:
        log.warning("Label column(s) %s in %s hold no 1: no review carries those labels, so the model leaves them "
                    "out. Remove them from data.label_columns, or mark the reviews they apply to.",
                    ", ".join(map(repr, empty)), source)
    names = np.asarray(columns, dtype=object)
    return [tuple(sorted(names[row])) for row in indicator]


@dataclass(frozen=True)
class LabelConflict:
    """A text filed more than once with different labels: its labels in file order and the source rows (0-based,
    header excluded) of its copies."""

    text: str
    labels: tuple[str, ...]
    rows: tuple[int, ...]


@dataclass(frozen=True)
class MergedRows:
    """Positions (into the rows given) of the first row of each distinct text, with the union of its labels, and the
    texts whose copies carry different labels (their ``rows`` are positions into the rows given)."""

    positions: np.ndarray
    label_sets: list[LabelSet]
    conflicts: tuple[LabelConflict, ...]

    @property
    def conflict_share(self) -> float:
        """The share of the distinct texts filed under different labels."""
        return len(self.conflicts) / max(len(self.positions), 1)


def merge_duplicates(texts: Sequence[str], label_sets: Sequence[LabelSet]) -> MergedRows:
    """One row per distinct text (the first), labelled with every label its copies carry: a review tagged "bug" in
    one row and "pricing" in another is one review with both. ``conflicts`` lists the texts whose copies differ."""
    copies: dict[str, list[int]] = {}
    for position, text in enumerate(texts):
        copies.setdefault(text, []).append(position)
    positions = np.fromiter((found[0] for found in copies.values()), dtype=np.int64, count=len(copies))
    merged, conflicts = [], []
    for text, found in copies.items():
        variants = dict.fromkeys(tuple(label_sets[position]) for position in found)
        merged.append(tuple(sorted(set().union(*variants))))
        if len(variants) > 1:
            labels = tuple(dict.fromkeys(label for variant in variants for label in variant))
            conflicts.append(LabelConflict(text, labels, tuple(found)))
    return MergedRows(positions, merged, tuple(conflicts))


def joined_labels(labels: Iterable[str]) -> tuple[str, list[str]] | None:
    """The separator that joins other labels inside label names (``a|b`` and ``b|a`` beside ``a``, or parts that
    recur across names), with those names: the sign of a separator that was not set, or set to another string."""
    names = set(labels)
    for separator in LIKELY_SEPARATORS:
        parts = {name: [part.strip() for part in name.split(separator)] for name in names if separator in name}
        parts = {name: found for name, found in parts.items() if len(found) > 1 and all(found)}
        recurring = Counter(part for found in parts.values() for part in set(found))
        known = (names - set(parts)) | {part for part, count in recurring.items() if count > 1}
        joined = sorted(name for name, found in parts.items() if all(part in known for part in found))
        if joined:
            return separator, joined
    return None


def separator_hint(labels: Iterable[str], separator: str | None = None) -> str:
    """A sentence naming the separator the labels seem to be joined with (empty when they do not look joined);
    ``separator``: the one set, which those cells did not use."""
    found = joined_labels(labels)
    if found is None:
        return ""
    other, joined = found
    names = ", ".join(map(repr, joined[:3]))
    if separator is not None:
        return (f" Labels such as {names} join other labels with {other!r}, not with data.label_separator="
                f"{separator!r}: write them with {separator!r} in the file.")
    return (f" Labels such as {names} join other labels with {other!r}: if a review may carry several labels, set "
            f"\"data.label_separator='{other}'\".")


def check_separator_found(cells: pd.Series, label_sets: Sequence[LabelSet], separator: str, column: str,
                          source: str) -> None:
    """``data.label_separator`` that occurs in no cell: with labels joined by another string it is the wrong one (an
    error naming that string); otherwise every review has one label at most, which is said in a warning."""
    text = cells.dropna().astype(str)
    if text.str.contains(separator, regex=False).any():
        return
    found = joined_labels({label for labels in label_sets for label in labels})
    if found is not None:
        other, joined = found
        raise MultiLabelError(
            f"data.label_separator={separator!r} occurs in no cell of column '{column}' in '{source}', whose labels "
            f"join other labels with {other!r} ({len(joined)} such names, e.g. {', '.join(map(repr, joined[:3]))}): "
            f"set \"data.label_separator='{other}'\".")
    log.warning("data.label_separator=%r occurs in no cell of column '%s' in %s: every review carries one label at "
                "most, and a multi-label model (a sigmoid per label) is trained. Remove data.label_separator if each "
                "review has exactly one label.", separator, column, source)


def check_label_sets(label_sets: Sequence[LabelSet], spec: LabelSpec, source: str) -> None:
    """At most :data:`MAX_LABELS` labels; ``task=multilabel`` on single-label data (no row with two labels, nothing
    that spells out several) is refused, since the model would learn a single-label task with a multi-label loss."""
    distinct = {label for labels in label_sets for label in labels}
    if len(distinct) > MAX_LABELS:
        raise too_many_labels(len(distinct), f"'{source}'")
    if not spec.gives_sets and not any(len(labels) > 1 for labels in label_sets):
        raise MultiLabelError(
            f"data.task=multilabel, but '{source}' is single-label data: no review carries two labels and neither "
            "data.label_separator nor data.label_columns is set. Set data.label_separator (e.g. '|') if a cell holds "
            "several labels, or data.task=single.")


def indicator_matrix(label_sets: Sequence[LabelSet], label_order: Sequence[str]) -> np.ndarray:
    """N x L float32 0/1 matrix in ``label_order``: the targets of a sigmoid classifier; unknown labels are ignored."""
    column = {label: i for i, label in enumerate(label_order)}
    matrix = np.zeros((len(label_sets), len(label_order)), dtype=np.float32)
    for row, labels in enumerate(label_sets):
        matrix[row, [column[label] for label in labels if label in column]] = 1.0
    return matrix


def check_resampling_task(strategy: str, multilabel: bool) -> None:
    """imbalanced-learn's samplers draw rows by one class each: a review with two labels has no single class."""
    if multilabel and strategy != "none":
        raise ConfigError(
            f"data.resampling.strategy={strategy} does not apply to multi-label data (a review with several labels "
            "belongs to no single class to under- or oversample): set data.resampling.strategy=none, and weight "
            "rare labels with model.alpha=auto instead.")
