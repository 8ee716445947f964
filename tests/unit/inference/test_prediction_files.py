"""Checks before predict scores a review: where the predictions and insights go, and that the text column holds text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from review_cls.errors import ConfigError, DataError
from review_cls.inference.prediction_files import check_output_locations, check_texts_are_words, insights_folder
from review_cls.reports.insights import INSIGHT_FILES


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("review\nslow app\n")
    return path


def test_the_insights_folder_sits_beside_the_output_file():
    assert insights_folder(Path("out/predictions.csv")) == Path("out/predictions_insights")


def test_the_input_file_a_folder_or_a_path_through_a_file_is_refused(tmp_path, source):
    with pytest.raises(ConfigError, match="input='.*reviews.csv' is the file written as .*whatever overwrite says"):
        check_output_locations(tmp_path / "." / "reviews.csv", {"input": source}, insights=False, overwrite=True)
    with pytest.raises(ConfigError, match="is a folder; name a file in it"):
        check_output_locations(tmp_path, {"input": source}, insights=False, overwrite=True)
    with pytest.raises(ConfigError, match=f"'{source}' is a file, not a folder"):
        check_output_locations(source / "predictions.csv", {"input": source}, insights=False, overwrite=True)


def test_an_input_inside_the_insights_folder_is_refused_as_it_would_be_lost(tmp_path):
    folder = insights_folder(tmp_path / "predictions.csv")
    folder.mkdir()
    source = folder / INSIGHT_FILES[0]  # a file predict writes there, so the folder check alone would pass it
    source.write_text("review\nslow app\n")
    with pytest.raises(ConfigError, match="input='.*categories.csv' lies in '.*predictions_insights', a folder this "
                                          "command writes as a whole"):
        check_output_locations(tmp_path / "predictions.csv", {"input": source}, insights=True, overwrite=True)
    check_output_locations(tmp_path / "predictions.csv", {"input": source}, insights=False, overwrite=True)


def test_an_earlier_output_or_insights_folder_is_replaced_only_with_overwrite(tmp_path, source):
    output = tmp_path / "predictions.csv"
    check_output_locations(output, {"input": source}, insights=True, overwrite=False)
    folder = insights_folder(output)
    folder.mkdir()
    (folder / INSIGHT_FILES[0]).write_text("old")
    with pytest.raises(ConfigError, match="predictions_insights' exists .*overwrite=true"):
        check_output_locations(output, {"input": source}, insights=True, overwrite=False)
    # insights=false leaves the folder alone
    check_output_locations(output, {"input": source}, insights=False, overwrite=False)
    output.write_text("old")
    with pytest.raises(ConfigError, match="predictions.csv' exists"):
        check_output_locations(output, {"input": source}, insights=False, overwrite=False)
    check_output_locations(output, {"input": source}, insights=True, overwrite=True)


def test_an_insights_folder_with_the_users_own_files_is_refused_even_with_overwrite(tmp_path, source):
    output = tmp_path / "predictions.csv"
    folder = insights_folder(output)
    folder.mkdir()
    (folder / INSIGHT_FILES[0]).write_text("old")
    (folder / "my_chart.png").write_bytes(b"png")
    with pytest.raises(ConfigError, match=r"holds files predict did not write \(my_chart.png\).*insights=false"):
        check_output_locations(output, {"input": source}, insights=True, overwrite=True)
    folder_as_file = insights_folder(tmp_path / "other.csv")
    folder_as_file.write_text("a file")
    with pytest.raises(ConfigError, match="is a file"):
        check_output_locations(tmp_path / "other.csv", {"input": source}, insights=True, overwrite=True)


def test_a_text_column_of_numbers_only_is_refused_naming_the_columns(source):
    numbers = pd.Series(["4", " 3.5 ", "1,200", "-2e3", None, ""])
    with pytest.raises(DataError, match=r"text_column 'rating' .* holds only numbers \(e.g. '4'\).*review, rating"):
        check_texts_are_words(numbers, "rating", source, ["review", "rating"])
    check_texts_are_words(pd.Series(["4", "5 stars", "3"]), "review", source, ["review"])
    check_texts_are_words(pd.Series([None, "  "]), "review", source, ["review"])
