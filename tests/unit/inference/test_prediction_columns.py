"""The columns predict adds to a chunk: the best label, its confidence and every probability (single-label), or the
labels at their thresholds and the low-confidence flag (multi-label); empty texts get empty cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from review_cls.errors import ConfigError
from review_cls.inference.prediction_columns import multilabel_settings, predict_chunk
from review_cls.inference.predictor import Predictor
from review_cls.models.task import MULTI_LABEL
from tests.helpers import KeywordPredictor


def test_single_label_rows_get_the_best_label_and_empty_texts_empty_cells():
    predictor = KeywordPredictor(["bug", "price"])
    assert isinstance(predictor, Predictor)  # no model, no tokenizer: the protocol is all predict needs
    chunk = pd.DataFrame({"id": [7, 8, 9, 10], "review": ["the price is high", "", None, "a bug"],
                          "confidence": ["old"] * 4}, index=[20, 21, 22, 23])
    result = predict_chunk(predictor, chunk, "review", batch_size=2)
    assert list(result.columns) == ["id", "review", "predicted_label", "confidence", "prob_bug", "prob_price"]
    assert result["predicted_label"].tolist() == ["price", pd.NA, pd.NA, "bug"]
    assert list(result.index) == [20, 21, 22, 23]
    expected = predictor.predict_probabilities(["the price is high", "a bug"], 2)
    np.testing.assert_allclose(result.loc[[20, 23], ["prob_bug", "prob_price"]].to_numpy(), expected)
    np.testing.assert_allclose(result.loc[[20, 23], "confidence"].astype(float), expected.max(axis=1))
    assert result.loc[[21, 22], ["confidence", "prob_bug", "prob_price"]].isna().all().all()


def test_multilabel_rows_join_the_labels_at_their_thresholds_and_flag_near_ones():
    predictor = KeywordPredictor(["bug", "price"], MULTI_LABEL, np.array([0.5, 0.15], dtype=np.float32))
    chunk = pd.DataFrame({"review": ["bug", "price and bug", "nothing", " "]})
    result = predict_chunk(predictor, chunk, "review", 4, label_separator=";", low_confidence_margin=0.1)
    assert result["labels"].tolist() == ["bug", "bug;price", "", pd.NA]
    # 0.1 for price lies within 0.1 of its 0.15 threshold; both labels far from theirs in the second row
    assert result["low_confidence"].tolist() == [True, False, True, pd.NA]
    assert "predicted_label" not in result.columns


@pytest.mark.parametrize(("settings", "message"), [
    ({"label_separator": "", "low_confidence_margin": 0.1}, "label_separator must be a non-empty string"),
    ({"label_separator": 1, "low_confidence_margin": 0.1}, "label_separator must be a non-empty string"),
    ({"label_separator": "|", "low_confidence_margin": 1}, "low_confidence_margin must be a number in [0, 1)"),
    ({"label_separator": "|", "low_confidence_margin": True}, "low_confidence_margin must be a number in [0, 1)"),
])
def test_multilabel_settings_name_the_bad_setting(settings, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        multilabel_settings(settings)


def test_multilabel_settings_are_returned_checked():
    assert multilabel_settings({"label_separator": ";", "low_confidence_margin": 0}) == (";", 0.0)
