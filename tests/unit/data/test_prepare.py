"""Cleaning, label names and the seeded stratified split of a review table."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from review_cls.data.prepare import clean_reviews, stratified_split
from review_cls.errors import DataError
from tests.helpers import fails, imbalanced_frame, reviews, write_csv


@pytest.mark.parametrize("setting", ["data.text_column=content", "data.label_column=topic"])
def test_missing_column_lists_the_columns_present(compose_train_cfg, setting):
    wanted = setting.split("=")[1]
    fails(compose_train_cfg(setting), DataError, f"'{wanted}' not found", "Columns present: 'review_id', 'review', 'category'")


def test_all_texts_empty(compose_train_cfg, tmp_path):
    frame = reviews()
    frame["review"] = ["  "] * (len(frame) - 1) + [None]
    path = write_csv(tmp_path / "blank.csv", frame)
    fails(compose_train_cfg(data_path=path), DataError, "'review'", "is empty", "blank.csv")


def test_nan_labels_name_the_rows(compose_train_cfg, tmp_path):
    frame = reviews()
    frame.loc[[3, 7], "category"] = None
    path = write_csv(tmp_path / "nan_labels.csv", frame)
    fails(compose_train_cfg(data_path=path), DataError, "'category'", "empty in 2 row(s)", "[5, 9]")


def test_labels_that_mix_types(compose_train_cfg, tmp_path):
    frame = reviews().astype(object)
    frame.loc[0, "category"] = 3
    path = tmp_path / "mixed.jsonl"
    frame.to_json(path, orient="records", lines=True)
    fails(compose_train_cfg(data_path=path), DataError, "mixes value types", "int (e.g. 3)", "str")


def test_duplicate_column_names_after_reading(tmp_path):
    from review_cls.data.prepare import clean_reviews

    frame = pd.DataFrame([["a", "x", "y"]], columns=["review", "category", "category"])
    with pytest.raises(DataError, match="'category' occur more than once"):
        clean_reviews(frame, "review", "category", "dup.csv")


def test_class_too_small_names_it_and_its_count(compose_train_cfg, tmp_path):
    frame = pd.concat([reviews(), pd.DataFrame({"review": ["lonely review"], "category": ["rare"]})])
    path = write_csv(tmp_path / "rare.csv", frame)
    fails(compose_train_cfg(data_path=path), DataError, "'rare' has 1", "data.min_class_count=3")


def test_single_class(compose_train_cfg, tmp_path):
    path = write_csv(tmp_path / "one.csv", reviews(classes=("bug",)))
    fails(compose_train_cfg(data_path=path), DataError, "single class ('bug')")


def test_split_too_small_for_the_number_of_classes(compose_train_cfg, tmp_path):
    path = write_csv(tmp_path / "many.csv", reviews(n_per_class=3, classes=tuple("abcdef")))
    fails(compose_train_cfg("data.val_size=0.1", "data.test_size=0.1", data_path=path), DataError,
          "Cannot split 18 reviews of 6 classes", "data.test_size")


def test_split_file_that_is_not_json(tmp_path):
    from review_cls.data.prepare import load_split

    path = tmp_path / "split.json"
    path.write_text(json.dumps({"train": [1]})[:-3])
    with pytest.raises(DataError, match="Cannot use split file"):
        load_split(path)


def test_clean_drops_empty_and_duplicates_keeping_row_ids():
    frame = pd.DataFrame({"text": ["a", " ", None, "b", "a", "c "], "label": ["x", "y", "x", "y", "y", "x"]})
    reviews = clean_reviews(frame, "text", "label", "f.csv")
    assert reviews.texts == ["a", "b", "c"]
    assert reviews.labels == ["x", "y", "x"]
    assert reviews.row_ids.tolist() == [0, 3, 5]


def test_integer_labels_keep_their_names():
    frame = pd.DataFrame({"text": ["a", "b", "c"], "label": [3, 10, 3]})
    assert clean_reviews(frame, "text", "label", "f.csv").labels == ["3", "10", "3"]


def test_stratified_split_is_seeded_disjoint_and_keeps_class_mix():
    labels = imbalanced_frame()["label"].tolist()
    split = stratified_split(labels, 0.2, 0.2, seed=7)
    assert split["train"].tolist() == stratified_split(labels, 0.2, 0.2, seed=7)["train"].tolist()
    everything = np.concatenate(list(split.values()))
    assert len(everything) == len(set(everything.tolist())) == 60
    for name in ("val", "test"):
        counts = Counter(labels[i] for i in split[name])
        assert counts["big"] > counts["mid"] >= counts["rare"] >= 1
