"""Reading review tables: every unreadable file is a DataError naming the file and what to change."""

from __future__ import annotations

import pandas as pd
import pytest

from review_cls.data.io import read_table
from review_cls.errors import DataError
from tests.helpers import fails, reviews


def test_missing_file(compose_train_cfg, tmp_path):
    fails(compose_train_cfg(data_path=tmp_path / "nope.csv"), DataError, "nope.csv", "does not exist", "working directory")


def test_unknown_extension(compose_train_cfg, tmp_path):
    path = tmp_path / "reviews.docx"
    path.write_text("x")
    fails(compose_train_cfg(data_path=path), DataError, "reviews.docx", "unknown extension '.docx'", ".csv", ".xlsx")


def test_non_utf8_csv_names_the_encoding_option_and_the_option_works(compose_train_cfg, tmp_path):
    path = tmp_path / "big5.csv"
    frame = reviews()
    frame["review"] = frame["review"] + " 出貨很慢"
    path.write_bytes(frame.to_csv(index=False).encode("big5"))
    fails(compose_train_cfg(data_path=path), DataError, "big5.csv", "Cannot decode", "data.encoding=")
    assert read_table(path, encoding="big5")["review"].str.contains("出貨很慢").all()


def test_excel_without_the_named_sheet_lists_the_sheets(compose_train_cfg, tmp_path):
    path = tmp_path / "reviews.xlsx"
    reviews().to_excel(path, sheet_name="Reviews", index=False)
    fails(compose_train_cfg("data.sheet_name=Sheet9", data_path=path), DataError, "reviews.xlsx", "no sheet 'Sheet9'", "Reviews")


@pytest.mark.parametrize("name", ["empty.csv", "empty.xlsx", "empty.parquet", "empty.jsonl"])
def test_zero_byte_file(compose_train_cfg, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    fails(compose_train_cfg(data_path=path), DataError, name, "is empty (0 bytes)")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_header_only_file(compose_train_cfg, tmp_path, suffix):
    path = tmp_path / f"header{suffix}"
    frame = pd.DataFrame({"review": pd.Series(dtype=str), "category": pd.Series(dtype=str)})
    {".csv": frame.to_csv, ".xlsx": frame.to_excel, ".parquet": frame.to_parquet}[suffix](path, index=False)
    fails(compose_train_cfg(data_path=path), DataError, path.name, "has no rows")


def test_json_lines_keep_their_dates_and_label_codes_as_written(tmp_path):
    path = tmp_path / "reviews.jsonl"
    path.write_text('{"review": "late", "label": "002", "date": "2024-03-04"}\n'
                    '{"review": "ok", "label": "3", "date": "04/03/2024", "rating": 4}\n', encoding="utf-8")
    frame = read_table(path)
    assert frame["label"].tolist() == ["002", "3"] and frame["date"].tolist() == ["2024-03-04", "04/03/2024"]
    assert frame["rating"].iloc[1] == 4
