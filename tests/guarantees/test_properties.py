"""Property-based: random tables in every format either load cleanly or fail with the project's own error.

Never a raw pandas / pyarrow / openpyxl / sklearn / tokenizer exception, whatever the column names, types, unicode,
empty or huge cells, mixed types or raw bytes.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from review_cls.data.batching import tokenize_texts
from review_cls.data.io import read_table
from review_cls.data.prepare import check_class_counts, clean_reviews, drop_rare_classes, stratified_split
from review_cls.errors import ReviewClsError
from review_cls.models.pretrained import load_tokenizer

FORMATS = (".csv", ".tsv", ".jsonl", ".parquet", ".xlsx")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

unicode_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)  # surrogates cannot be written at all
huge_text = st.integers(2_000, 20_000).map(lambda n: "評論 review " * (n // 10))
cells = st.one_of(
    st.none(), unicode_text, st.sampled_from(["", " ", "\n", "nan", "NULL", "0", "1.5", "True"]), huge_text,
    st.integers(-(2**40), 2**40), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
)
label_cells = st.one_of(st.none(), st.sampled_from(["bug", "delivery", "price", " bug ", "", 0, 1, 2, 1.0, 2.5, True]))


@st.composite
def review_tables(draw) -> tuple[pd.DataFrame, str, str]:
    """A table with random extra columns, plus text/label column names that may or may not be in it."""
    rows = draw(st.integers(0, 30))
    names = draw(st.lists(unicode_text, min_size=1, max_size=4))
    columns = {f"{name}": draw(st.lists(cells, min_size=rows, max_size=rows)) for name in names}
    # an empty label column name means "no labels" (prediction input), so it is never drawn here
    text_column = draw(st.sampled_from(["review", *names]))
    label_column = draw(st.sampled_from(["label", *[name for name in names if name]]))
    if draw(st.booleans()):  # mostly realistic: texts that repeat a little, labels from a few classes
        columns["review"] = draw(st.lists(st.one_of(st.sampled_from(["great app", "late parcel", ""]), unicode_text),
                                          min_size=rows, max_size=rows))
        columns["label"] = draw(st.lists(label_cells, min_size=rows, max_size=rows))
    return pd.DataFrame(columns), text_column, label_column


def write(frame: pd.DataFrame, path: Path) -> None:
    """Write with the library the user's export tool would use; what cannot be written is not a test case."""
    try:
        if path.suffix == ".csv":
            frame.to_csv(path, index=False)
        elif path.suffix == ".tsv":
            frame.to_csv(path, sep="\t", index=False)
        elif path.suffix == ".jsonl":
            frame.to_json(path, orient="records", lines=True, force_ascii=False)
        elif path.suffix == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_excel(path, index=False)
    except Exception:  # noqa: BLE001 - mixed types in Parquet, control characters in Excel, duplicate names...
        assume(False)


@pytest.fixture(scope="module")
def tokenizer(tiny_bert_dir):
    return load_tokenizer(str(tiny_bert_dir))


@SETTINGS
@given(table=review_tables(), suffix=st.sampled_from(FORMATS), val_size=st.sampled_from([0.1, 0.2, 0.3]),
       test_size=st.sampled_from([0.1, 0.25]), min_class_count=st.integers(0, 3))
def test_random_tables_load_cleanly_or_raise_the_project_error(tokenizer, table, suffix, val_size, test_size,
                                                               min_class_count):
    frame, text_column, label_column = table
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"reviews{suffix}"
        write(frame, path)
        try:
            raw = read_table(path)
            reviews = clean_reviews(raw, text_column, label_column, str(path))
        except ReviewClsError:
            return
    assert len(reviews.texts) == len(reviews.labels) == len(reviews.row_ids) > 0
    assert all(isinstance(text, str) and text == text.strip() and text for text in reviews.texts)
    assert all(isinstance(label, str) and label for label in reviews.labels)
    assert len(set(reviews.texts)) == len(reviews.texts), "duplicates are dropped before splitting"
    assert reviews.row_ids.max() < len(raw) and (pd.Series(reviews.row_ids).diff().dropna() > 0).all()
    assert all(len(ids) <= 32 for ids in tokenize_texts(tokenizer, reviews.texts, 32))
    try:
        kept = drop_rare_classes(reviews, min_class_count)
        check_class_counts(kept, val_size, test_size)
        split = stratified_split(kept.labels, val_size, test_size, seed=0)
    except ReviewClsError:
        return
    positions = sorted(int(i) for part in split.values() for i in part)
    assert positions == list(range(len(kept)))
    assert set(kept.labels[i] for i in split["train"]) == set(kept.labels)


@SETTINGS
@given(content=st.binary(max_size=4096), suffix=st.sampled_from(FORMATS), encoding=st.sampled_from(["utf-8", "cp950"]))
def test_random_bytes_never_escape_as_a_raw_library_error(content, suffix, encoding):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"junk{suffix}"
        path.write_bytes(content)
        try:
            frame = read_table(path, encoding=encoding)
        except ReviewClsError:
            return
    assert len(frame) > 0 and all(isinstance(column, str) for column in frame.columns)


@SETTINGS
@given(labels=st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f"]), min_size=1, max_size=60),
       val_size=st.floats(0.05, 0.45), test_size=st.floats(0.05, 0.45))
def test_split_checks_cover_every_impossible_split(labels, val_size, test_size):
    """Whatever the class counts and fractions, the split either works or says why in a project error."""
    assume(val_size + test_size < 0.95 and not math.isclose(val_size + test_size, 1.0))
    import numpy as np

    from review_cls.data.prepare import LabeledReviews

    reviews = LabeledReviews(np.arange(len(labels)), [f"t{i}" for i in range(len(labels))], labels, "labels.csv")
    try:
        check_class_counts(reviews, val_size, test_size)
        split = stratified_split(labels, val_size, test_size, seed=1)
    except ReviewClsError:
        return
    assert all(len(part) > 0 for part in split.values())
