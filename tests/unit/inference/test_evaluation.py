"""Scoring a labeled file: read as the model's task reads it, and labels the model does not know named or left out,
never mapped silently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from review_cls.data.prepare import LabeledReviews
from review_cls.errors import DataError
from review_cls.inference.evaluation import keep_known_labels, read_for_model
from review_cls.models.task import MULTI_LABEL
from tests.helpers import CONF_DIR, KeywordPredictor, write_csv

REVIEWS = LabeledReviews(np.arange(4), ["a", "b", "c", "d"], ["bug", "Price", "bug", "refund"], "labeled.csv")


def data_group(path, *overrides: str):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose(config_name="evaluate", overrides=["ckpt_path=model.ckpt", f"data.path={path}",
                                                          "data.text_column=review", "data.label_column=category",
                                                          *overrides]).data


def test_unknown_labels_are_listed_with_a_case_hint_or_their_rows_left_out():
    with pytest.raises(DataError, match=r"'Price' \(1 rows\), 'refund' \(1 rows\).*case-sensitive"):
        keep_known_labels(REVIEWS, ["bug", "price"], False, "model.ckpt")
    kept = keep_known_labels(REVIEWS, ["bug", "price"], True, "model.ckpt")
    assert kept.texts == ["a", "c"] and kept.row_ids.tolist() == [0, 2]
    assert keep_known_labels(REVIEWS, ["Price", "bug", "refund"], False, "model.ckpt") is REVIEWS


def test_unknown_labels_that_join_known_ones_name_the_separator_not_drop_unknown_labels():
    joined = LabeledReviews(np.arange(3), ["a", "b", "c"], ["bug|price", "price|bug", "bug"], "labeled.csv")
    with pytest.raises(DataError, match=r"'price\|bug' \(1 rows\)\. It knows: 'bug', 'price'\. Labels such as "
                                        r"'bug\|price', 'price\|bug' join other labels with '\|': if a review may "
                                        r"carry several labels, set \"data.label_separator='\|'\"\. Otherwise rename"):
        keep_known_labels(joined, ["bug", "price"], False, "model.ckpt")


def test_a_file_is_read_as_the_models_task_reads_it(tmp_path):
    path = write_csv(tmp_path / "labeled.csv", pd.DataFrame({"review": ["crash", "too dear"],
                                                             "category": ["bug|price", "price"]}))
    as_sets = read_for_model(data_group(path), KeywordPredictor(["bug|price", "price"]), "model.ckpt")
    assert not as_sets.multilabel and as_sets.labels == ["bug|price", "price"]
    multilabel = KeywordPredictor(["bug", "price"], MULTI_LABEL, np.array([0.5, 0.5]))
    assert read_for_model(data_group(path, "data.label_separator='|'"), multilabel, "m").labels == [
        ("bug", "price"), ("price",)]
    with pytest.raises(DataError, match="'single.ckpt' is single-label, but .* is read as multi-label"):
        read_for_model(data_group(path, "data.label_separator='|'"), KeywordPredictor(["bug", "price"]),
                       "single.ckpt")
