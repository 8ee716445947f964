"""The blended predictor: the tiny BERT checkpoint's probabilities averaged with a stored TF-IDF pipeline's at the
blend weight, the model's labels, task and truncation, the blend's thresholds; mismatched halves are refused; a
checkpoint or folder without a blend record predicts with the model alone; a recorded blend's file is checked."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from review_cls.errors import CheckpointError
from review_cls.inference.blended_predictor import (
    BlendedPredictor,
    checkpoint_blend,
    exported_blend,
    predictor_line,
    recorded_blend,
)
from review_cls.inference.predictor import load_predictor
from review_cls.models.blend import Blend, BlendRecord
from review_cls.models.task import MULTI_LABEL
from review_cls.models.tfidf import build_tfidf_pipeline, full_probabilities
from review_cls.models.tfidf_store import TFIDF_FILE, StoredTfidf, file_sha256, load_tfidf, save_tfidf
from tests.helpers import CONF_DIR

TEXTS = ["the app crashes at login", "delivery was late again", "too expensive, the coupon failed", "love it"]


@pytest.fixture(scope="module")
def model(tiny_checkpoint):
    return load_predictor(tiny_checkpoint)


@pytest.fixture(scope="module")
def stored_tfidf(model, small_reviews_csv, tmp_path_factory) -> Path:
    frame = pd.read_csv(small_reviews_csv)
    options = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "tfidf" / "default.yaml"))
    pipeline = build_tfidf_pipeline(**options, seed=0).fit(frame["review"].astype(str).tolist(),
                                                           frame["category"].map(model.labels.index).to_numpy())
    return save_tfidf(pipeline, model.labels, tmp_path_factory.mktemp("run") / TFIDF_FILE)


def test_probabilities_are_the_weighted_average_of_the_model_and_tfidf(model, stored_tfidf):
    tfidf = load_tfidf(stored_tfidf)
    blended = BlendedPredictor(model, tfidf, Blend(0.3, "f1"))
    expected = 0.3 * model.predict_probabilities(TEXTS, 2) + 0.7 * full_probabilities(tfidf.pipeline, TEXTS,
                                                                                       len(model.labels))
    probabilities = blended.predict_probabilities(TEXTS, batch_size=2)
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-6)
    assert probabilities.dtype == np.float32 and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert (blended.labels, blended.task, blended.max_length) == (model.labels, model.task, model.max_length)
    assert blended.thresholds is None and blended.to("cpu") is blended


def test_weight_one_is_the_model_and_zero_is_tfidf(model, stored_tfidf):
    tfidf = load_tfidf(stored_tfidf)
    np.testing.assert_allclose(BlendedPredictor(model, tfidf, Blend(1.0, "fixed")).predict_probabilities(TEXTS, 4),
                               model.predict_probabilities(TEXTS, 4), atol=1e-7)
    np.testing.assert_allclose(BlendedPredictor(model, tfidf, Blend(0.0, "fixed")).predict_probabilities(TEXTS, 4),
                               tfidf.predict_probabilities(TEXTS), atol=1e-7)


def test_halves_from_different_runs_are_refused(model, stored_tfidf):
    tfidf = load_tfidf(stored_tfidf)
    with pytest.raises(CheckpointError, match="not fitted on the same run"):
        BlendedPredictor(model, StoredTfidf(tfidf.pipeline, list(reversed(model.labels)), False), Blend(0.5, "f1"))
    with pytest.raises(CheckpointError, match="multi-label"):
        BlendedPredictor(model, StoredTfidf(tfidf.pipeline, model.labels, True), Blend(0.5, "f1"))


def test_a_multilabel_blend_carries_its_own_thresholds(model, stored_tfidf):
    tfidf = load_tfidf(stored_tfidf)
    multilabel_model = replace(model, task=MULTI_LABEL, thresholds=np.full(len(model.labels), 0.5, np.float32))
    multilabel_tfidf = StoredTfidf(tfidf.pipeline, model.labels, True)
    thresholds = np.linspace(0.2, 0.6, len(model.labels)).astype(np.float32)
    blended = BlendedPredictor(multilabel_model, multilabel_tfidf, Blend(0.5, "f1", thresholds))
    np.testing.assert_array_equal(blended.thresholds, thresholds)
    with pytest.raises(CheckpointError, match="one threshold per label"):
        BlendedPredictor(multilabel_model, multilabel_tfidf, Blend(0.5, "f1"))


def test_a_checkpoint_without_a_blend_record_predicts_with_the_model_alone(model, tiny_checkpoint, caplog):
    with caplog.at_level(logging.WARNING):
        assert checkpoint_blend(model, {}, tiny_checkpoint) is model
    assert "predicting with the model alone" in caplog.text and str(tiny_checkpoint) in caplog.text
    assert predictor_line(model) == "the model alone (no blend with TF-IDF)"


def test_an_export_from_before_the_blend_predicts_with_the_model_alone(model, tmp_path, caplog):
    (tmp_path / "config.json").write_text("{}")
    with caplog.at_level(logging.WARNING):
        assert exported_blend(model, tmp_path) is model
    assert "holds no TF-IDF part" in caplog.text and str(tmp_path) in caplog.text
    (tmp_path / TFIDF_FILE).write_bytes(b"a stray file")
    with pytest.raises(CheckpointError, match=r"tfidf.npz' is there but .*config.json' records no blend"):
        exported_blend(model, tmp_path)


def test_a_recorded_blend_loads_its_file_checked_against_its_digest(model, stored_tfidf, tmp_path):
    chosen = Blend(0.6, "log_loss")
    record = BlendRecord(chosen, TFIDF_FILE, file_sha256(stored_tfidf)).to_dict()
    blended = recorded_blend(model, record, stored_tfidf.parent, tmp_path / "model.ckpt", "keep it")
    assert isinstance(blended, BlendedPredictor) and blended.blend == chosen
    assert predictor_line(blended) == "the model blended with its TF-IDF baseline (0.60 model + 0.40 TF-IDF, rule log_loss)"
    with pytest.raises(CheckpointError, match="changed after it was written.*model.ckpt' ships the model blended with "
                                              "this file: keep it; or pass blend=false for the model alone"):
        recorded_blend(model, record | {"tfidf_sha256": "0" * 64}, stored_tfidf.parent, tmp_path / "model.ckpt",
                       "keep it")
    with pytest.raises(CheckpointError, match="tfidf.npz' is missing.*blend=false"):
        recorded_blend(model, record, tmp_path, tmp_path / "model.ckpt", "keep it")
    with pytest.raises(CheckpointError, match="records a blend without its TF-IDF file"):
        recorded_blend(model, {"weight": 0.5, "rule": "f1"}, tmp_path, tmp_path / "model.ckpt", "keep it")
