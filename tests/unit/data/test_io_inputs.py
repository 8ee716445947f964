"""Files a new user really has: byte-order marks, other delimiters, JSON arrays, renamed files, folders.

Each either reads exactly or fails with a message that names the file, the place in it and the setting to change.
"""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

import pandas as pd
import pytest

from review_cls.data.io import existing_table, iter_table_chunks, read_table
from review_cls.data.prepare import clean_reviews
from review_cls.errors import ConfigError, DataError
from review_cls.training.preflight import check_training_settings

ROWS = pd.DataFrame({"review": ["好用的應用程式", "送貨太慢, 很差", "價格; 合理"], "label": ["app", "delivery", "price"]})


def csv_text(frame: pd.DataFrame = ROWS, sep: str = ",") -> str:
    return frame.to_csv(sep=sep, index=False)


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def reads_back(path: Path, **settings) -> None:
    pd.testing.assert_frame_equal(read_table(path, **settings), ROWS)


# ---------------------------------------------------------------- encodings


def test_decode_error_names_the_real_byte_and_line(tmp_path):
    good = csv_text().encode("cp950")
    bad_at = good.index("送".encode("cp950"))
    path = write_bytes(tmp_path / "reviews.csv", good[:bad_at] + b"\x80" + good[bad_at:])
    with pytest.raises(DataError, match=rf"at byte {bad_at} \(line 3\)\. .*data.encoding=cp950"):
        read_table(path, encoding="cp950")
    first_non_utf8 = good.index("好".encode("cp950"))
    with pytest.raises(DataError, match=rf"as utf-8: .* at byte {first_non_utf8} \(line 2\)"):
        read_table(path)


def test_decode_error_position_past_the_first_megabyte(tmp_path):
    filler = "review,label\n" + "an ordinary review,app\n" * 60_000
    path = write_bytes(tmp_path / "long.csv", filler.encode() + b"broken \xff byte,app\n")
    with pytest.raises(DataError, match=rf"at byte {len(filler) + 7} \(line 60002\)"):
        read_table(path)


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_byte_order_marks_decide_the_encoding(tmp_path, codec, suffix, caplog):
    text = ROWS.to_json(orient="records", lines=True, force_ascii=False) if suffix == ".jsonl" else (
        csv_text(sep="\t" if suffix == ".tsv" else ","))
    mark = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(codec, b"")
    path = write_bytes(tmp_path / f"reviews{suffix}", mark + text.encode(codec))
    with caplog.at_level(logging.INFO, logger="review_cls.data.io"):
        reads_back(path)
        chunks = list(iter_table_chunks(path, 2))
    pd.testing.assert_frame_equal(pd.concat(chunks), ROWS)
    if codec != "utf-8-sig":
        assert "UTF-16" in caplog.text


# ---------------------------------------------------------------- delimiters


@pytest.mark.parametrize(("sep", "setting"), [(";", "\"data.sep=';'\""), ("\t", '"data.sep=tab"'),
                                              ("|", "\"data.sep='|'\"")])
def test_other_delimiter_in_a_csv_is_named_with_the_setting(tmp_path, sep, setting):
    path = tmp_path / "reviews.csv"
    path.write_text(csv_text(sep=sep), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_table(path)
    assert setting in str(caught.value) and str(path) in str(caught.value)
    reads_back(path, sep={"\t": "tab"}.get(sep, sep))


def test_delimiter_hint_when_pandas_sees_more_fields(tmp_path):
    """A ';' file whose review holds a comma: pandas' "Expected 1 fields in line 3, saw 2" gets the hint."""
    path = tmp_path / "reviews.csv"
    path.write_text("review;label\nfine;app\nlate, very late;delivery\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"Expected 1 fields .*';' \(semicolon\) as delimiter.*\"data.sep=';'\""):
        read_table(path)


def test_predict_names_its_own_settings(tmp_path):
    """predict's settings have no ``data.`` prefix: input=, sep=, encoding=."""
    path = tmp_path / "reviews.csv"
    path.write_text(csv_text(sep=";"), encoding="utf-8")
    with pytest.raises(DataError, match=r"pass \"sep=';'\""):
        list(iter_table_chunks(path, 10, prefix=""))
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"point input elsewhere"):
        existing_table(path, "input")


def test_a_one_column_file_is_not_doubted(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("review\nlate; very late\nok\n", encoding="utf-8")
    assert read_table(path)["review"].tolist() == ["late; very late", "ok"]


@pytest.mark.parametrize("sep", ["ab", "", "x", "\n"])
def test_impossible_sep_is_refused_before_reading(compose_train_cfg, sep):
    cfg = compose_train_cfg()
    cfg.data.sep = sep
    with pytest.raises(ConfigError, match="data.sep="):
        check_training_settings(cfg)


def test_data_sep_reaches_the_datamodule(compose_train_cfg, tmp_path):
    from review_cls.data.datamodule import ReviewDataModule

    frame = pd.DataFrame({"review": [f"review {i}; with a semicolon" for i in range(30)],
                          "category": ["bug", "price", "ui"] * 10})
    path = tmp_path / "reviews.csv"
    frame.to_csv(path, sep="|", index=False)
    splits, labels = ReviewDataModule.from_config(compose_train_cfg("data.sep='|'", data_path=path).data).clean_splits()
    assert labels == ["bug", "price", "ui"] and sum(len(split) for split in splits.values()) == 30


def test_txt_is_read_as_tsv_and_says_so(tmp_path, caplog):
    path = tmp_path / "reviews.txt"
    path.write_text(csv_text(sep="\t"), encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="review_cls.data.io"):
        reads_back(path)
    assert "as tab-separated (TSV)" in caplog.text and "data.sep" in caplog.text


@pytest.mark.parametrize("sep", [",", "\t"])
def test_nul_characters_are_removed_on_every_pandas_version(tmp_path, sep, caplog):
    """pandas < 3 ends a CSV cell at its first NUL ("a\x00b" -> "a") and pandas 3 keeps it: the reader drops NULs
    before parsing, so the text around them survives, and a review of NULs only is an empty cell, dropped as one."""
    rows = pd.DataFrame({"review": ["fine\x00 app", "\x00", "\x00crash on start", "two\nlines\x00\x00"],
                         "label": ["app", "app", "bug", "bug"]})
    path = tmp_path / "reviews.csv"
    path.write_text(rows.to_csv(sep=sep, index=False), encoding="utf-8", newline="")
    expected = ["fine app", None, "crash on start", "two\nlines"]
    with caplog.at_level(logging.WARNING, logger="review_cls.data.io"):
        whole = read_table(path, sep=sep)
        chunks = pd.concat(iter_table_chunks(path, 3, sep=sep, as_text=True))
    for frame in (whole, chunks):
        assert [None if pd.isna(text) else text for text in frame["review"]] == expected
    assert "Removed 5 NUL character(s)" in caplog.text and "the first on line 2" in caplog.text
    assert clean_reviews(whole, "review", "label", "reviews.csv").texts == ["fine app", "crash on start", "two\nlines"]


# ---------------------------------------------------------------- JSON


def test_broken_json_line_is_named_by_line_number(tmp_path):
    lines = [ROWS.iloc[[i % 3]].to_json(orient="records", lines=True, force_ascii=False).strip() for i in range(60)]
    lines[50] = lines[50][:-5]
    path = tmp_path / "reviews.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 51 is not one JSON object"):
        read_table(path)
    with pytest.raises(DataError, match=r"line 51 is not one JSON object"):
        list(iter_table_chunks(path, 7))


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_json_array_is_read_and_named(tmp_path, suffix, caplog):
    path = tmp_path / f"reviews{suffix}"
    path.write_text("\n  " + ROWS.to_json(orient="records", force_ascii=False, indent=2), encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="review_cls.data.io"):
        reads_back(path)
        chunks = list(iter_table_chunks(path, 2))
    assert [len(chunk) for chunk in chunks] == [2, 1]
    assert "is a JSON array, not JSON Lines" in caplog.text


# ---------------------------------------------------------------- wrong kind of file or path


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".parquet"])
def test_csv_renamed_to_a_binary_format(tmp_path, suffix):
    path = tmp_path / f"reviews{suffix}"
    path.write_text(csv_text(), encoding="utf-8")
    with pytest.raises(DataError, match=r"is not an? (Excel workbook|Parquet file).*renamed"):
        read_table(path)
    with pytest.raises(DataError, match=r"is not an? (Excel workbook|Parquet file)"):
        list(iter_table_chunks(path, 10))


def test_folder_given_as_the_data_path(tmp_path):
    (tmp_path / "reviews.csv").write_text(csv_text())
    with pytest.raises(DataError, match=r"is a folder, not a file \(it holds e.g. reviews.csv\): set data.path"):
        read_table(tmp_path)
    with pytest.raises(DataError, match=r"is a folder, not a file.*: set input to"):
        existing_table(tmp_path, "input")


# ---------------------------------------------------------------- columns and labels


def test_text_column_equal_to_label_column():
    with pytest.raises(DataError, match=r"data.text_column and data.label_column are both 'review'"):
        clean_reviews(ROWS, "review", "review", "reviews.csv")


def test_labels_differing_only_by_case_are_named_in_a_warning(caplog):
    frame = pd.DataFrame({"review": ["a", "b", "c", "d"], "label": ["App_bug", "app_bug", "price", "Price"]})
    with caplog.at_level(logging.WARNING, logger="review_cls.data.prepare"):
        reviews = clean_reviews(frame, "review", "label", "reviews.csv")
    assert sorted(set(reviews.labels)) == ["App_bug", "Price", "app_bug", "price"]  # still four classes
    assert "'App_bug' and 'app_bug' differ only by case" in caplog.text
    assert "'Price' and 'price' differ only by case" in caplog.text
