"""Output tables keep what predict writes: CR inside cells, Excel control characters, messages that name
the output rather than its temporary file."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from review_cls.data.io import read_table
from review_cls.data.writers import TableWriter
from review_cls.errors import DataError

def test_xlsx_output_drops_control_characters_and_counts_the_cells(tmp_path, caplog):
    frame = pd.DataFrame({"review": ["fine", "bell\x07 and \x1b[31mcolour", "nul\x01"], "n": [1, 2, 3]})
    temporary, output = tmp_path / ".out.xlsx.tmp", tmp_path / "out.xlsx"
    with caplog.at_level(logging.WARNING, logger="review_cls.data.writers"):
        with TableWriter(temporary, "excel", output) as writer:
            writer.write(frame)
    back = pd.read_excel(temporary)
    assert back["review"].tolist() == ["fine", "bell and [31mcolour", "nul"] and back["n"].tolist() == [1, 2, 3]
    assert "2 cell(s) held control characters" in caplog.text and str(output) in caplog.text



def test_xlsx_output_cuts_a_text_longer_than_a_cell_holds_and_says_so(tmp_path, caplog):
    long_review = "slow " * 10_000  # 50,000 characters
    with caplog.at_level(logging.WARNING, logger="review_cls.data.writers"):
        with TableWriter(tmp_path / "out.xlsx", "excel") as writer:
            writer.write(pd.DataFrame({"review": [long_review, "fine"]}))
    back = pd.read_excel(tmp_path / "out.xlsx")
    assert back["review"].tolist() == [long_review[:32_767], "fine"]
    assert "1 cell(s) held more than the 32,767 characters an Excel cell can store" in caplog.text

@pytest.mark.parametrize("kind", ["csv", "tsv"])
def test_text_output_keeps_carriage_returns_inside_cells(tmp_path, kind):
    frame = pd.DataFrame({"review": ["old mac line\rbreak", "tab\there", "plain"], "label": ["a", "b", "c"]})
    path = tmp_path / f"out.{kind}"
    with TableWriter(path, kind) as writer:
        writer.write(frame.iloc[:2])
        writer.write(frame.iloc[2:])
    pd.testing.assert_frame_equal(read_table(path), frame)


def test_parquet_type_change_names_the_output_not_the_temporary_file(tmp_path):
    temporary, output = tmp_path / ".out.parquet.123.tmp", tmp_path / "out.parquet"
    with pytest.raises(DataError) as caught:
        with TableWriter(temporary, "parquet", output) as writer:
            writer.write(pd.DataFrame({"id": [1, 2]}))
            writer.write(pd.DataFrame({"id": ["x", "y"]}))
    assert f"'{output}'" in str(caught.value) and ".tmp" not in str(caught.value)
