"""The Predictor: the one face of every runtime; the PyTorch one's probabilities give what the batched function
gives, in the order of the texts; the one loader refuses what it cannot load."""

from __future__ import annotations

import numpy as np
import pytest

from review_cls.errors import CheckpointError, ConfigError
from review_cls.inference.predictor import Predictor, TorchPredictor, load_predictor, predict_probabilities
from tests.helpers import KeywordPredictor

TEXTS = ["the parcel was late", "app crashes on login", "great price", "refund please", "dark mode button broken"]


def test_predictor_probabilities_follow_the_texts_and_the_training_truncation(tiny_checkpoint):
    predictor = load_predictor(tiny_checkpoint, device="cpu")
    assert isinstance(predictor, TorchPredictor) and isinstance(predictor, Predictor)
    assert predictor.to("cpu") is predictor
    probabilities = predictor.predict_probabilities(TEXTS, 2)
    assert probabilities.shape == (len(TEXTS), len(predictor.labels))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    expected = predict_probabilities(predictor.model, predictor.tokenizer, TEXTS, predictor.max_length, 64)
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    reversed_rows = predictor.predict_probabilities(TEXTS[::-1], 3)
    np.testing.assert_allclose(reversed_rows[::-1], probabilities, atol=1e-5)


def test_a_folder_that_is_not_an_export_is_refused(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="not an exported model"):
        load_predictor(tmp_path)


def test_a_predictor_without_a_model_has_the_same_face():
    assert isinstance(KeywordPredictor(["bug"]), Predictor)
    assert not isinstance(object(), Predictor)


def test_an_unknown_runtime_is_refused_before_anything_is_read(tmp_path):
    with pytest.raises(ConfigError, match="runtime=tensorrt is not a runtime; use runtime=torch or runtime=onnx"):
        load_predictor(tmp_path / "missing.ckpt", runtime="tensorrt")
