"""A whole file predicted on this machine: streamed chunk by chunk through any Predictor into the output and its
insights folder; the first chunk's columns are checked against the settings."""

from __future__ import annotations

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

import review_cls.inference.batch_predict as batch_predict
from review_cls.errors import DataError
from review_cls.inference.batch_predict import predict_file, start_summary
from review_cls.inference.prediction_files import insights_folder
from tests.helpers import CONF_DIR, KeywordPredictor, write_csv


def compose_predict(*overrides: str):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose(config_name="predict", overrides=["progress=false", "report=false", *overrides])


def test_a_file_streams_through_the_predictor_into_the_output_and_its_insights(tmp_path, monkeypatch):
    texts = ["app bug again", "price too high", "", "bug on login", "fair price", "bug and price"]
    source = write_csv(tmp_path / "reviews.csv", pd.DataFrame({"id": range(6), "review": texts}))
    output = tmp_path / "predictions.csv"
    loaded = []
    monkeypatch.setattr(batch_predict, "load_predictor",
                        lambda *args: loaded.append(args) or KeywordPredictor(["bug", "price"]))
    cfg = compose_predict("ckpt_path=model.ckpt", f"input={source}", f"output={output}", "chunk_size=4")
    assert predict_file(cfg) == {"rows": 6, "predicted": 5, "empty": 1, "output": str(output)}
    assert loaded == [("model.ckpt", "torch", "auto", True)]  # blend=true: what the checkpoint ships
    written = pd.read_csv(output, keep_default_na=False)
    assert written["id"].tolist() == list(range(6))
    assert written["predicted_label"].tolist() == ["bug", "price", "", "bug", "price", "bug"]
    assert any(insights_folder(output).iterdir())


def test_the_first_chunk_must_hold_the_text_column():
    cfg = compose_predict("ckpt_path=model.ckpt", "input=in.csv", "output=out.csv", "text_column=content")
    with pytest.raises(DataError, match="has no text column 'content'. Columns: id, review"):
        start_summary(pd.DataFrame({"id": [1], "review": ["slow"]}), cfg, KeywordPredictor(["bug"]), "in.csv")
