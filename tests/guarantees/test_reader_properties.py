"""Property: a random table written in any supported format, encoding and delimiter reads back exactly.

With the right settings (the file's encoding and delimiter) the reader returns exactly the written rows, whole and
in chunks. With the defaults instead it returns exactly those rows or raises the project's own error, never another
exception and never a silently different table.

Cells are any text (delimiters, quotes, line breaks, NUL, any script) the encoding can hold, except values every
table reader turns into something else by design: numbers, booleans and NA markers (pandas' type inference), text
Excel cannot hold, reads as a formula, or a "\r" (openpyxl writes it raw and XML reads it back as "\n"). CSV/TSV
files read back without their NUL characters (the reader removes them, so every pandas version reads the same).
Column names are free text without line breaks, quotes or delimiters (with the wrong delimiter, a name holding the
right one would split into columns that look real).
"""

from __future__ import annotations

import codecs
import csv
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from review_cls.data.io import iter_table_chunks, read_table
from review_cls.data.sniff import DELIMITERS
from review_cls.errors import ReviewClsError

TEXT_FORMATS = (".csv", ".tsv", ".txt")
JSON_FORMATS = (".jsonl", ".json")
FORMATS = (*TEXT_FORMATS, *JSON_FORMATS, ".parquet", ".xlsx")
# encoding as written -> how the user names it; "utf-16-be" files get a byte-order mark like every UTF-16 export
ENCODINGS = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "utf-16": "utf-16", "utf-16-be": "utf-16",
             "cp950": "cp950", "gb18030": "gb18030", "latin-1": "latin-1"}
UNICODE = ("utf-8", "utf-8-sig", "utf-16", "utf-16-be")
NA_MARKERS = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
              "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAME_EXCLUDES = {"exclude_categories": ("Cs", "Cc", "Zl", "Zp"), "exclude_characters": "\"'" + "".join(DELIMITERS)}
labels = st.one_of(st.lists(st.sampled_from(["bug", "Bug", "delivery", "價格", "late; parcel", "a,b"]), min_size=1),
                   st.lists(st.integers(0, 5), min_size=1))


def keeps_its_type(text: str) -> bool:
    """Text a reader keeps as text: not a number, boolean or NA marker once stripped."""
    stripped = text.strip()
    if stripped in NA_MARKERS or stripped.lower() in ("true", "false"):
        return False
    try:
        float(stripped)
    except ValueError:
        return True
    return False


def encodable(text: str, encoding: str) -> str:
    """``text`` without the characters ``encoding`` cannot write and read back unchanged."""
    return "".join(char for char in text if char.encode(encoding, "ignore").decode(encoding, "ignore") == char)


def text_in(encoding: str, max_size: int, **excluded) -> st.SearchStrategy[str]:
    """Text of the characters ``encoding`` can hold (surrogates never: they cannot be written at all)."""
    excluded.setdefault("exclude_categories", ("Cs",))
    return st.text(st.characters(codec=encoding, **excluded), min_size=1, max_size=max_size).map(
        lambda text: encodable(text, encoding))


def fits_a_spreadsheet_cell(text: str) -> bool:
    """Text an .xlsx cell keeps as written: no control characters, no formula, no carriage return."""
    return not ILLEGAL_CHARACTERS_RE.search(text) and not text.startswith("=") and "\r" not in text


@st.composite
def tables(draw, encoding: str, suffix: str) -> pd.DataFrame:
    rows = draw(st.integers(1, 12))
    names = text_in(encoding, 10, **NAME_EXCLUDES).filter(str.strip)
    texts = text_in(encoding, 15).filter(lambda text: keeps_its_type(text.replace("\x00", "")))
    if suffix == ".xlsx":  # a header cell is a cell too: "=..." is a formula to Excel
        names, texts = names.filter(fits_a_spreadsheet_cell), texts.filter(fits_a_spreadsheet_cell)
    names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    columns = {name: draw(st.lists(texts, min_size=rows, max_size=rows)) for name in names}
    label_values = draw(labels)
    columns["label"] = [label_values[i % len(label_values)] for i in range(rows)]
    if suffix in TEXT_FORMATS and isinstance(label_values[0], str):
        columns["label"] = [encodable(value, encoding) or "x" for value in columns["label"]]
    return pd.DataFrame(columns)


def write(frame: pd.DataFrame, path: Path, encoding: str, sep: str, line_end: str, json_array: bool) -> None:
    """Write as a spreadsheet or export tool would; UTF-16 files carry a byte-order mark.

    Rows ending in "\n" quote every cell: the csv module leaves a lone "\r" unquoted then, which no reader can
    tell from a row end (review_cls's own writer uses "\r\n" for that reason).
    """
    if path.suffix in (*TEXT_FORMATS, *JSON_FORMATS):
        if path.suffix in TEXT_FORMATS:
            quoting = csv.QUOTE_ALL if line_end == "\n" else csv.QUOTE_MINIMAL
            text = frame.to_csv(sep=sep, index=False, lineterminator=line_end, quoting=quoting)
        else:
            text = frame.to_json(orient="records", lines=not json_array, force_ascii=False)
        mark = codecs.BOM_UTF16_BE if encoding == "utf-16-be" else b""
        path.write_bytes(mark + text.encode(encoding))
    elif path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_excel(path, index=False)


def cells(frame: pd.DataFrame) -> tuple[list[str], list[list]]:
    split = frame.to_dict(orient="split")
    return [str(name) for name in split["columns"]], split["data"]


@SETTINGS
@given(data=st.data(), suffix=st.sampled_from(FORMATS), right_settings=st.booleans(), chunk_size=st.integers(1, 5),
       line_end=st.sampled_from(["\n", "\r\n"]), json_array=st.booleans())
def test_random_tables_read_back_exactly_or_raise_the_project_error(data, suffix, right_settings, chunk_size,
                                                                   line_end, json_array):
    encodings = list(ENCODINGS) if suffix in TEXT_FORMATS else list(UNICODE) if suffix in JSON_FORMATS else ["utf-8"]
    encoding = data.draw(st.sampled_from(encodings), label="encoding")
    sep = data.draw(st.sampled_from(list(DELIMITERS)), label="sep") if suffix in TEXT_FORMATS else None
    frame = data.draw(tables(encoding, suffix), label="table")
    options = {"encoding": ENCODINGS[encoding], "sep": {"\t": "tab"}.get(sep, sep)} if right_settings else {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"reviews{suffix}"
        write(frame, path, encoding, sep or ",", line_end, json_array)
        try:
            whole = read_table(path, **options)
            chunks = list(iter_table_chunks(path, chunk_size, **options))
        except ReviewClsError as error:
            if right_settings:
                raise
            event(f"defaults: {type(error).__name__}")
            return
    event(f"{'right settings' if right_settings else 'defaults'}: read exactly")
    expected = frame.replace("\x00", "", regex=True) if suffix in TEXT_FORMATS else frame
    assert cells(whole) == cells(expected)
    assert cells(pd.concat(chunks)) == cells(expected)
    assert [chunk.index[0] for chunk in chunks] == list(range(0, len(frame), chunk_size))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_unicode_files_need_no_settings(tmp_path, encoding):
    """The defaults read a UTF-16 or UTF-8-with-BOM file exactly: its byte-order mark names the encoding."""
    frame = pd.DataFrame({"評論": ["好用", "太慢了, 很差"], "label": ["app", "delivery"]})
    path = tmp_path / "reviews.csv"
    write(frame, path, encoding, ",", "\r\n", False)
    assert cells(read_table(path)) == cells(frame)
