"""Export to a Hugging Face folder: same predictions through `pipeline`, atomic write, refusal to overwrite; the
checkpoint's blend with TF-IDF carried along, so predict from the checkpoint, the folder and its ONNX model agree."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir

from review_cls.errors import CheckpointError, ConfigError
from review_cls.inference.blended_predictor import BlendedPredictor
from review_cls.inference.checkpoints import load_classifier
from review_cls.inference.export_folder import export_model
from review_cls.inference.predictor import TorchPredictor, load_predictor, predict_probabilities
from review_cls.jobs.export import run_export
from review_cls.jobs.predict import run_prediction
from review_cls.models.tfidf_store import file_sha256
from tests.helpers import CONF_DIR, REPO_ROOT

TEXTS = [
    "the app crashes on login after the update",
    "my parcel is late and the courier never came",
    "refund please, the card payment failed twice",
    "love the dark mode, great ui",
    "",
    "bad " * 200,  # longer than max_length: both sides must truncate the same way
]


@pytest.fixture(scope="module")
def exported(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Exported through the real command line, offline."""
    out = tmp_path_factory.mktemp("export") / "model"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run([sys.executable, "-m", "review_cls.export", f"ckpt_path={tiny_checkpoint}", f"out={out}"],
                            cwd=out.parent, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(path.name for path in out.parent.iterdir()) == ["model"]  # no Hydra folders, no temp leftovers
    return out


def test_folder_holds_safetensors_labels_and_tokenizer(exported, tiny_checkpoint):
    model, _ = load_classifier(tiny_checkpoint)
    names = {path.name for path in exported.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer_config.json"} <= names
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in names)
    config = json.loads((exported / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(len(model.labels))] == model.labels
    assert config["label2id"] == {label: i for i, label in enumerate(model.labels)}


def test_pipeline_gives_the_checkpoints_predictions(exported, tiny_checkpoint):
    from transformers import pipeline

    model, tokenizer = load_classifier(tiny_checkpoint)
    expected = predict_probabilities(model, tokenizer, TEXTS, model.hparams.max_length, 4)
    classify = pipeline("text-classification", model=str(exported), top_k=None, device="cpu")
    outputs = classify(TEXTS, truncation=True)
    scores = [{item["label"]: item["score"] for item in row} for row in outputs]
    got = np.array([[row[label] for label in model.labels] for row in scores])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert got.argmax(axis=1).tolist() == expected.argmax(axis=1).tolist()


def compose_predict(*overrides: str):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose(config_name="predict", overrides=["progress=false", *overrides])


def test_predict_accepts_the_exported_folder(exported, tiny_checkpoint, small_reviews_csv, tmp_path):
    outputs = {}
    for name, source in (("ckpt", tiny_checkpoint), ("folder", exported)):
        output = tmp_path / f"{name}.csv"
        run_prediction(compose_predict(f"ckpt_path={source}", f"input={small_reviews_csv}", f"output={output}"))
        outputs[name] = pd.read_csv(output)
    assert outputs["folder"]["predicted_label"].tolist() == outputs["ckpt"]["predicted_label"].tolist()
    probabilities = [column for column in outputs["ckpt"] if column.startswith("prob_")]
    np.testing.assert_allclose(outputs["folder"][probabilities], outputs["ckpt"][probabilities], atol=1e-6)


def test_refuses_a_non_empty_folder_unless_overwrite(tiny_checkpoint, tmp_path):
    out = tmp_path / "model"
    export_model(tiny_checkpoint, out)
    with pytest.raises(ConfigError, match="exists and is not empty.*overwrite=true"):
        export_model(tiny_checkpoint, out)
    (out / "model.safetensors").write_bytes(b"older export")
    export_model(tiny_checkpoint, out, overwrite=True)
    assert (out / "model.safetensors").read_bytes() != b"older export"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]


def test_overwrite_never_deletes_files_export_did_not_write(tiny_checkpoint, tmp_path):
    out = tmp_path / "model"
    export_model(tiny_checkpoint, out)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"holds files export did not write \(notes.txt\)"):
        export_model(tiny_checkpoint, out, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine"


def test_an_empty_existing_folder_is_used(tiny_checkpoint, tmp_path):
    (tmp_path / "model").mkdir()
    export_model(tiny_checkpoint, tmp_path / "model")
    assert (tmp_path / "model" / "config.json").is_file()


def test_corrupt_checkpoint_and_file_target_are_clear_errors(tiny_checkpoint, tmp_path):
    corrupt = tmp_path / "broken.ckpt"
    corrupt.write_bytes(os.urandom(512))
    with pytest.raises(CheckpointError, match="broken.ckpt' cannot be read"):
        export_model(corrupt, tmp_path / "model")
    with pytest.raises(CheckpointError, match="does not exist"):
        export_model(tmp_path / "missing.ckpt", tmp_path / "model")
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        export_model(tiny_checkpoint, tmp_path / "a_file")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a_file", "broken.ckpt"]


def test_a_failed_export_leaves_the_previous_folder(tiny_checkpoint, tmp_path, monkeypatch):
    from transformers import PreTrainedTokenizerBase

    out = tmp_path / "model"
    export_model(tiny_checkpoint, out)
    before = {path.name: path.read_bytes() for path in out.iterdir()}

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(PreTrainedTokenizerBase, "save_pretrained", broken_save)
    with pytest.raises(OSError, match="disk full"):
        export_model(tiny_checkpoint, out, overwrite=True)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]


def test_missing_settings_say_what_to_set():
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="export", overrides=["overwrite=true"])
    with pytest.raises(ConfigError, match=r"Set ckpt_path=\.\.\., out=\.\.\. \(usage: python -m review_cls\.export"):
        run_export(cfg)


def test_a_folder_it_may_not_write_is_an_error_naming_out(tiny_checkpoint, tmp_path, monkeypatch):
    """As a user without write access sees it (the tests may run as root, who may write anywhere)."""
    import review_cls.utils.atomic as atomic

    def refused(path, replace=True):
        raise PermissionError(13, "Permission denied", str(Path(path).parent))

    monkeypatch.setattr(atomic, "atomic_dir", refused)
    with pytest.raises(ConfigError, match=r"out='.*locked' cannot be written \(Permission denied"):
        export_model(tiny_checkpoint, tmp_path / "locked")
    assert not (tmp_path / "locked").exists()


@pytest.fixture(scope="module")
def blended_export(blended_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The best checkpoint (it records a blend with TF-IDF) exported with its ONNX model."""
    pytest.importorskip("onnxruntime")
    return export_model(blended_checkpoint, tmp_path_factory.mktemp("blended") / "model", export_format="onnx")


def test_an_export_carries_the_checkpoints_blend_and_its_tfidf_file(blended_export, blended_checkpoint):
    tfidf = blended_export / "tfidf.npz"
    assert tfidf.read_bytes() == (blended_checkpoint.parent.parent / "baseline" / "tfidf.npz").read_bytes()
    recorded = torch.load(blended_checkpoint, weights_only=True)["blend"]
    config = json.loads((blended_export / "config.json").read_text())
    assert config["review_cls_blend"] == recorded | {"tfidf_file": "tfidf.npz", "tfidf_sha256": file_sha256(tfidf)}


def test_predict_from_the_checkpoint_its_export_and_its_onnx_export_agree(blended_export, blended_checkpoint,
                                                                          small_reviews_csv, tmp_path):
    outputs = {}
    for name, source, runtime in (("ckpt", blended_checkpoint, "torch"), ("folder", blended_export, "torch"),
                                  ("onnx", blended_export, "onnx")):
        output = tmp_path / f"{name}.csv"
        run_prediction(compose_predict(f"ckpt_path={source}", f"runtime={runtime}", f"input={small_reviews_csv}",
                                       f"output={output}", "insights=false"))
        outputs[name] = pd.read_csv(output)
    probabilities = [column for column in outputs["ckpt"] if column.startswith("prob_")]
    shipped = load_predictor(blended_checkpoint)
    texts = outputs["ckpt"]["review"].tolist()
    assert isinstance(shipped, BlendedPredictor)
    np.testing.assert_allclose(outputs["ckpt"][probabilities], shipped.predict_probabilities(texts, 16), atol=1e-6)
    for name in ("folder", "onnx"):  # float32 ONNX Runtime: within 1e-5 of PyTorch too (docs/export.md)
        assert outputs[name]["predicted_label"].tolist() == outputs["ckpt"]["predicted_label"].tolist(), name
        np.testing.assert_allclose(outputs[name][probabilities], outputs["ckpt"][probabilities], atol=1e-5)


def test_an_export_without_its_blend_predicts_the_model_alone_and_says_so_once(blended_checkpoint, small_reviews_csv,
                                                                                tmp_path, caplog):
    folder = export_model(blended_checkpoint, tmp_path / "model", blend=False)
    assert not (folder / "tfidf.npz").exists() and "review_cls_blend" not in json.loads(
        (folder / "config.json").read_text())
    output = tmp_path / "p.csv"
    with caplog.at_level(logging.WARNING):
        run_prediction(compose_predict(f"ckpt_path={folder}", f"input={small_reviews_csv}", f"output={output}",
                                       "insights=false"))
    said = [record for record in caplog.records if "holds no TF-IDF part" in record.getMessage()]
    assert len(said) == 1 and str(folder) in said[0].getMessage()
    alone = load_predictor(blended_checkpoint, blend=False)
    result = pd.read_csv(output)
    expected = alone.predict_probabilities(result["review"].tolist(), 16)
    np.testing.assert_allclose(result[[f"prob_{label}" for label in alone.labels]], expected, atol=1e-5)


def test_a_changed_tfidf_file_in_an_export_is_refused_naming_it(blended_export, tmp_path):
    folder = Path(shutil.copytree(blended_export, tmp_path / "model"))
    (folder / "tfidf.npz").write_bytes((folder / "tfidf.npz").read_bytes() + b"\0")
    with pytest.raises(CheckpointError, match=r"tfidf.npz' was changed after it was written.*copy the whole export "
                                              r"folder; or pass blend=false"):
        load_predictor(folder)
    assert isinstance(load_predictor(folder, blend=False), TorchPredictor)


def test_the_model_card_says_what_review_cls_predict_ships(blended_export, blended_checkpoint):
    card = " ".join((blended_export / "README.md").read_text().split())
    recorded = torch.load(blended_checkpoint, weights_only=True)["blend"]
    weight, scores = recorded["weight"], recorded["test_f1_macro"]
    assert (f"predicts with the model blended with its TF-IDF baseline: `p = {weight:.2f} * p_model + "
            f"{1 - weight:.2f} * p_tfidf`") in card
    assert "`transformers.pipeline()` and `AutoModelForSequenceClassification` give the fine-tuned model alone" in card
    assert f"| fine-tuned model alone | " in card and f"| {scores['model']:.4f} |" in card
    assert f"| TF-IDF + logistic regression | " in card and f"| {scores['tfidf']:.4f} |" in card
    how = "a fixed share" if recorded["rule"] == "fixed" else "weight chosen on validation by"
    assert (f"| blend: {weight:.2f} model + {1 - weight:.2f} TF-IDF, {how} rule {recorded['rule']} (what "
            f"`review_cls.predict` ships) | ") in card and f"| {scores['blend']:.4f} |" in card
