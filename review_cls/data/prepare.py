"""Turn a raw review table into clean (text, label) rows and a reproducible stratified split."""

from __future__ import annotations

import json
import logging
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from review_cls.data.io import read_table
from review_cls.data.label_sets import (
    MULTILABEL_SHARE,
    SINGLE,
    LabelConflict,
    LabelSpec,
    MergedRows,
    cell_label_sets,
    check_label_sets,
    check_separator_found,
    column_label_sets,
    indicator_matrix,
    merge_duplicates,
    separator_hint,
)
from review_cls.errors import DataError
from review_cls.utils.atomic import atomic_file

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")
# the run folder's list of texts filed under different labels (write_label_conflicts)
LABEL_CONFLICTS = "label_conflicts.csv"


@dataclass(frozen=True)
class LabeledReviews:
    """Clean reviews: ``row_ids`` point back to the rows of the source file (0-based, header excluded).

    ``labels`` holds one name per review, or with ``multilabel`` one sorted tuple of names per review (maybe empty).
    ``conflicts``: the source file's texts filed under different labels (kept with their first label when the data
    is read as single-label); every part of the file (a split, the rows of some labels) carries the whole list.
    """

    row_ids: np.ndarray
    texts: list[str]
    labels: list
    source: str
    multilabel: bool = False
    conflicts: tuple[LabelConflict, ...] = ()

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, positions: np.ndarray) -> LabeledReviews:
        """The reviews at ``positions`` (integer positions, repeats allowed, or a boolean mask), in that order."""
        index = np.flatnonzero(positions) if np.asarray(positions).dtype == bool else np.asarray(positions)
        return LabeledReviews(row_ids=self.row_ids[index], texts=[self.texts[i] for i in index],
                              labels=[self.labels[i] for i in index] if self.labels else [], source=self.source,
                              multilabel=self.multilabel, conflicts=self.conflicts)

    @property
    def label_sets(self) -> list[tuple[str, ...]]:
        """Each review's labels as a tuple, single-label reviews included (a tuple of one)."""
        return list(self.labels) if self.multilabel else [(label,) for label in self.labels]

    def as_multilabel(self) -> LabeledReviews:
        """The same reviews, each label as a set of one (a multi-label model scored on one label per review)."""
        return LabeledReviews(self.row_ids, self.texts, self.label_sets, self.source, True, self.conflicts)

    @property
    def label_counts(self) -> pd.Series:
        """Reviews per label, most frequent first (a multi-label review counts for each of its labels)."""
        return pd.Series([label for labels in self.label_sets for label in labels], dtype=object).value_counts()

    def label_ids(self, label_order: list[str]) -> np.ndarray:
        """Each review's label as its position in ``label_order`` (the model's id for it); multi-label: the N x L
        0/1 matrix of its labels."""
        if self.multilabel:
            return indicator_matrix(self.labels, label_order)
        label2id = {label: i for i, label in enumerate(label_order)}
        return np.asarray([label2id[label] for label in self.labels], dtype=np.int64)


def read_labeled(path: str | Path, text_column: str, label_column: str, sheet_name: str | int | None,
                 encoding: str, sep: str | None, spec: LabelSpec = SINGLE) -> LabeledReviews:
    """A whole labeled file, cleaned (empty texts and exact duplicates dropped, labels checked): what training splits
    and what evaluation scores."""
    # label codes are names: a CSV's "002" stays "002", not the number 2 (0/1 label columns stay numbers)
    frame = read_table(path, sheet_name, encoding, sep, text_columns=(label_column,) if label_column and not spec.columns else ())
    return clean_reviews(frame, text_column, label_column, str(path), spec)


def require_columns(frame: pd.DataFrame, columns: list[str], source: str,
                    settings: str = "data.text_column / data.label_column") -> None:
    """Fail with the columns that do exist when a needed one is missing, naming the ``settings`` that choose them."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise DataError(
            f"Column(s) {', '.join(map(repr, missing))} not found in '{source}'. "
            f"Columns present: {', '.join(map(repr, frame.columns))}. "
            f"Set {settings} to the right names."
        )
    repeated = [column for column in columns if list(frame.columns).count(column) > 1]
    if repeated:
        raise DataError(
            f"Column name(s) {', '.join(map(repr, repeated))} occur more than once in '{source}' "
            "(after turning column names into text). Rename the duplicates so each column has its own name."
        )


def label_names(values: pd.Series, source: str, column: str) -> list[str]:
    """Map label values to their string names; integer-like labels keep their number as name."""
    kinds = {type(value) for value in values}
    if kinds and all(issubclass(kind, (bool, np.bool_)) for kind in kinds):
        return [str(bool(value)) for value in values]
    numeric = all(
        issubclass(kind, (int, float, np.integer, np.floating)) and not issubclass(kind, (bool, np.bool_))
        for kind in kinds
    )
    if numeric:
        as_float = values.astype(float)
        if not np.all(np.isfinite(as_float)) or not np.all(as_float == np.round(as_float)):
            bad = values[~(np.isfinite(as_float) & (as_float == np.round(as_float)))].iloc[0]
            raise DataError(f"Label column '{column}' in '{source}' holds the non-integer number {bad!r}; labels must be names or integers.")
        return [str(int(value)) for value in as_float]
    if len(kinds) > 1 or not all(issubclass(kind, str) for kind in kinds):
        examples = {kind.__name__: values[values.map(type) == kind].iloc[0] for kind in kinds}
        raise DataError(
            f"Label column '{column}' in '{source}' mixes value types: "
            + ", ".join(f"{name} (e.g. {example!r})" for name, example in examples.items())
            + ". Use one type for all labels."
        )
    return [value.strip() for value in values]


def warn_case_twins(labels: list[str], source: str, column: str | None) -> None:
    """Labels that differ only by case ("App_bug", "app_bug") become separate classes: likely a typo, so say so."""
    spellings: dict[str, set[str]] = {}
    for label in set(labels):
        spellings.setdefault(label.casefold(), set()).add(label)
    for twins in (sorted(group) for group in spellings.values() if len(group) > 1):
        log.warning("Labels %s differ only by case (column '%s' of %s) and are separate classes; rename them in "
                    "the file if they are one class.", " and ".join(map(repr, twins)), column, source)


def blank_labels(values: pd.Series) -> np.ndarray:
    """Per row: the label cell is missing or only whitespace."""
    blank = values.map(lambda value: isinstance(value, str) and not value.strip())
    return (values.isna() | blank).to_numpy(dtype=bool)


def clean_reviews(frame: pd.DataFrame, text_column: str, label_column: str | None, source: str,
                  spec: LabelSpec = SINGLE) -> LabeledReviews:
    """Drop empty texts and exact duplicates (a duplicate on both sides of a split leaks) and check labels.

    Multi-label (``spec``): labels come from a separator or 0/1 columns, and duplicate texts are merged into one row
    with all their labels instead of keeping the first; ``task=auto`` is multi-label exactly when labels are given
    that way or at least :data:`MULTILABEL_SHARE` of the distinct texts carry different labels (fewer are label
    noise: each keeps its first label, with a warning, and the reviews' ``conflicts`` list them).
    """
    if spec.columns:
        require_columns(frame, [text_column, *spec.columns], source, "data.text_column / data.label_columns")
        label_column = None
    if text_column == label_column:
        raise DataError(
            f"data.text_column and data.label_column are both '{text_column}' for '{source}': the labels must be "
            f"another column (columns present: {', '.join(map(repr, frame.columns))})."
        )
    require_columns(frame, [text_column] + ([label_column] if label_column else []), source)
    # one pass over plain Python objects: pandas string ops would copy every text through Arrow and back
    stripped = [value.strip() if isinstance(value, str) else "" for value in frame[text_column].to_numpy(dtype=object)]
    keep = np.fromiter((text != "" for text in stripped), dtype=bool, count=len(stripped))
    dropped_empty = int((~keep).sum())
    if dropped_empty:
        log.warning("Dropped %d row(s) with an empty or missing '%s' in %s.", dropped_empty, text_column, source)
    if not keep.any():
        values = frame[text_column].dropna()
        example = f" (e.g. {values.iloc[0]}, a {type(values.iloc[0]).__name__})" if not values.empty else ""
        raise DataError(
            f"Every value of text column '{text_column}' in '{source}' is empty or not text{example}; nothing to "
            f"learn from. Check data.text_column (columns present: {', '.join(map(repr, frame.columns))})."
        )
    kept = np.flatnonzero(keep)
    kept_texts = [stripped[i] for i in kept]
    if spec.gives_sets:
        if spec.columns:
            sets = column_label_sets(frame.iloc[kept], spec.columns, source)
        else:
            sets = cell_label_sets(frame[label_column].iloc[kept], spec.separator)
            check_separator_found(frame[label_column].iloc[kept], sets, spec.separator, label_column, source)
        return multilabel_reviews(kept, kept_texts, sets, spec, source)
    if not label_column:
        row_ids = kept[~pd.Series(kept_texts, dtype=object).duplicated(keep="first").to_numpy()]
        warn_removed_duplicates(len(kept) - len(row_ids), source)
        return LabeledReviews(row_ids=row_ids, texts=[stripped[i] for i in row_ids], labels=[], source=source)
    missing_labels = keep & blank_labels(frame[label_column])
    if missing_labels.any():
        rows = (np.flatnonzero(missing_labels)[:5] + 2).tolist()
        raise DataError(
            f"Label column '{label_column}' in '{source}' is empty in {int(missing_labels.sum())} row(s) "
            f"(file lines {rows}...). Fill them in or remove those rows."
        )
    names = label_names(frame[label_column].iloc[kept], source, label_column)
    merged = merge_duplicates(kept_texts, [(name,) for name in names])
    if spec.task == "multilabel" or (spec.task == "auto" and merged.conflict_share >= MULTILABEL_SHARE):
        return multilabel_reviews(kept, kept_texts, [(name,) for name in names], spec, source, merged)
    conflicts = source_conflicts(merged, kept)
    warn_label_noise(conflicts, len(merged.positions), spec, source)
    warn_removed_duplicates(len(kept) - len(merged.positions), source)
    labels = [names[position] for position in merged.positions]
    warn_case_twins(labels, source, label_column)
    warn_joined_labels(labels, source)
    row_ids = kept[merged.positions]
    return LabeledReviews(row_ids=row_ids, texts=[stripped[i] for i in row_ids], labels=labels, source=source,
                          conflicts=conflicts)


def multilabel_reviews(kept: np.ndarray, texts: list[str], label_sets: list[tuple[str, ...]], spec: LabelSpec,
                       source: str, merged: MergedRows | None = None) -> LabeledReviews:
    """One row per distinct text with the union of its copies' labels (the count of merged texts is logged)."""
    merged = merged or merge_duplicates(texts, label_sets)
    if merged.conflicts:
        reason = "" if spec.gives_sets else (
            f"; data.task={spec.task}" + (f": {merged.conflict_share:.1%} of the distinct texts, at least "
                                          f"{MULTILABEL_SHARE:.0%}" if spec.task == "auto" else "")
            + ". data.task=single keeps each text's first label instead")
        log.warning("Merged %d duplicate review text(s) with different labels into multi-label rows in %s%s.",
                    len(merged.conflicts), source, reason)
    warn_removed_duplicates(len(texts) - len(merged.positions), source)
    check_label_sets(merged.label_sets, spec, source)
    warn_case_twins([label for labels in merged.label_sets for label in labels], source, "labels")
    warn_joined_labels([label for labels in merged.label_sets for label in labels], source, spec.separator)
    warn_universal_labels(merged.label_sets, source)
    return LabeledReviews(row_ids=kept[merged.positions], texts=[texts[i] for i in merged.positions],
                          labels=merged.label_sets, source=source, multilabel=True,
                          conflicts=source_conflicts(merged, kept))


def source_conflicts(merged: MergedRows, kept: np.ndarray) -> tuple[LabelConflict, ...]:
    """The merged rows' conflicts with their rows as the source file's row ids."""
    return tuple(LabelConflict(found.text, found.labels, tuple(int(kept[row]) for row in found.rows))
                 for found in merged.conflicts)


def warn_label_noise(conflicts: tuple[LabelConflict, ...], distinct: int, spec: LabelSpec, source: str) -> None:
    """Texts filed under different labels, read as single-label: each keeps its first label; say how many and
    where, and when ``task=auto`` would read them as several labels per review."""
    if not conflicts:
        return
    first = conflicts[0]
    auto = (f"data.task=auto reads a file as multi-label only from {MULTILABEL_SHARE:.0%} of the texts on; set "
            "data.task=multilabel if a review may carry several labels" if spec.task == "auto" else
            "set data.task=auto or multilabel if a review may carry several labels")
    log.warning("%d review text(s) in %s are filed under different labels (%.2f%% of %d distinct texts; e.g. file "
                "lines %s: %r as %s): read as label noise, each keeps its first label (%s). Fix or remove the "
                "wrong copies.", len(conflicts), source, 100 * len(conflicts) / max(distinct, 1), distinct,
                ", ".join(str(row + 2) for row in first.rows), textwrap.shorten(first.text, 60, placeholder="..."),
                " and ".join(map(repr, first.labels)), auto)


def warn_removed_duplicates(count: int, source: str) -> None:
    if count:
        log.warning("Removed %d exact duplicate review text(s) in %s before splitting.", count, source)


def warn_joined_labels(labels: list[str], source: str, separator: str | None = None) -> None:
    """Label names that join other labels (``a|b``): a forgotten, wrong or mixed ``data.label_separator``."""
    hint = separator_hint(set(labels), separator)
    if hint:
        log.warning("%s Otherwise each such name is a %s of its own (in %s).", hint.strip(),
                    "class" if separator is None else "label", source)


def warn_universal_labels(label_sets: list[tuple[str, ...]], source: str) -> None:
    """A label every review carries tells the model nothing: it is always predicted."""
    if len(label_sets) < 2:
        return
    counts = pd.Series([label for labels in label_sets for label in labels], dtype=object).value_counts()
    everywhere = sorted(counts[counts == len(label_sets)].index)
    if everywhere:
        log.warning("Label(s) %s in %s are on every review: the model learns nothing from them (always predicted). "
                    "Remove them from the data, or add reviews without them.", ", ".join(map(repr, everywhere)), source)


def write_label_conflicts(parts: Iterable[LabeledReviews], folder: Path) -> Path | None:
    """``folder/label_conflicts.csv``: one row per text filed under different labels in the files ``parts`` were
    read from (its labels, the file lines of its copies, the file); nothing when there is none."""
    files = {part.source: part.conflicts for part in parts}
    rows = [(found.text, " | ".join(found.labels), " ".join(str(row + 2) for row in found.rows), source)
            for source, conflicts in files.items() for found in conflicts]
    if not rows:
        return None
    path = folder / LABEL_CONFLICTS
    with atomic_file(path) as temporary:
        pd.DataFrame(rows, columns=["text", "labels", "file_lines", "source"]).to_csv(temporary, index=False)
    log.info("The %d text(s) filed under different labels are listed in %s.", len(rows), path)
    return path


def drop_rare_classes(reviews: LabeledReviews, min_class_count: int) -> LabeledReviews:
    """Drop classes with fewer than ``min_class_count`` reviews, warning with their names and counts."""
    counts = reviews.label_counts
    rare = counts[counts < min_class_count]
    if rare.empty:
        return reviews
    log.warning("Dropping class(es) below min_class_count=%d: %s.", min_class_count,
                {str(label): int(count) for label, count in rare.items()})
    if reviews.multilabel:  # the reviews stay, without the rare labels
        sets = [tuple(label for label in labels if label not in rare.index) for labels in reviews.labels]
        return LabeledReviews(reviews.row_ids, reviews.texts, sets, reviews.source, multilabel=True)
    return reviews.take(np.array([label not in rare.index for label in reviews.labels], dtype=bool))


def check_class_counts(reviews: LabeledReviews, val_size: float, test_size: float) -> None:
    """A stratified split needs two classes and enough reviews of each to put one in every split (multi-label: two
    labels, each on enough reviews; iterative stratification gives rare labels to the training split first)."""
    counts = reviews.label_counts
    if counts.empty and reviews.multilabel and len(reviews):
        raise DataError(f"None of the {len(reviews)} reviews in '{reviews.source}' carries a label (every label cell "
                        "is empty, or data.min_class_count dropped every label): check data.label_column / "
                        "data.label_columns.")
    if counts.empty:
        raise DataError(f"No reviews left in '{reviews.source}' (data.min_class_count may have dropped every class).")
    if len(counts) < 2:
        raise DataError(f"'{reviews.source}' has a single class ({counts.index[0]!r}); a classifier needs at least two.")
    needed = 1 + sum(1 for size in (val_size, test_size) if size > 0)
    too_small = counts[counts < needed]
    if too_small.empty:
        return
    kind, drops = ("Label(s)", "such labels (their reviews stay)") if reviews.multilabel else ("Class(es)", "such classes")
    named = ", ".join(f"{label!r} has {count}" for label, count in too_small.head(10).items())
    more = f" and {len(too_small) - 10} more" if len(too_small) > 10 else ""
    hint = "" if reviews.multilabel else separator_hint(counts.index)  # multi-label: warned while reading
    advice = (f"{hint} Otherwise add" if hint else " Add") + (f" examples, or set data.min_class_count={needed} to "
                                                              f"drop {drops}.")
    raise DataError(f"{kind} too small for a stratified train/val/test split in '{reviews.source}': {named}{more} "
                    f"(need at least {needed}).{advice}")


def stratified_split(labels: list[str], val_size: float, test_size: float, seed: int) -> dict[str, np.ndarray]:
    """Seeded stratified split into positions of ``labels``; val/test keep the natural class mix."""
    positions = np.arange(len(labels))
    label_array = np.asarray(labels)
    try:
        train_val, test = train_test_split(positions, test_size=test_size, stratify=label_array, random_state=seed)
        relative_val = val_size / (1.0 - test_size)
        train, val = train_test_split(
            train_val, test_size=relative_val, stratify=label_array[train_val], random_state=seed
        )
    except ValueError as exc:
        classes = len(set(labels))
        raise DataError(
            f"Cannot split {len(labels)} reviews of {classes} classes with data.val_size={val_size} and "
            f"data.test_size={test_size}: {exc}. Each split needs at least one review per class: raise "
            "data.val_size / data.test_size, add reviews, or drop rare classes with data.min_class_count=N."
        ) from exc
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


def save_split(path: Path, row_ids: dict[str, np.ndarray], source: str) -> None:
    """Write the row ids of each split so a run (or a baseline) can be reproduced exactly."""
    payload = {"source": source, **{name: [int(i) for i in row_ids[name]] for name in SPLITS}}
    with atomic_file(path) as temporary:
        temporary.write_text(json.dumps(payload))


def load_split(path: str | Path) -> dict[str, np.ndarray]:
    """Read a split written by :func:`save_split`."""
    try:
        payload = json.loads(Path(path).read_text())
        return {name: np.asarray(payload[name], dtype=np.int64) for name in SPLITS}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"Cannot use split file '{path}': {exc}. It must be a split.json written by a training run.") from exc
