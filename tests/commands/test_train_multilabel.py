"""A multi-label run end to end on the tiny BERT: demo reviews of two categories joined into one text labelled 'a|b',
trained for one epoch with ``data=file data.label_separator='|'``; its blend with the one-vs-rest TF-IDF and the
blend's own thresholds; then predict, evaluate and export on it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import open_dict

from review_cls.errors import ConfigError, DataError
from tests.helpers import CONF_DIR, fails, multilabel_cfg, multilabel_frame


def test_the_blend_is_chosen_with_its_own_thresholds_on_validation(multilabel_run):
    from review_cls.models.blend import fit_blend
    from review_cls.training.run_blend import read_run_predictions

    metrics, out, best = multilabel_run
    val = read_run_predictions(out, "val")
    assert val.targets.shape == (len(val.texts), 6)
    record = torch.load(best, weights_only=True)["blend"]
    expected = fit_blend(val.model, val.tfidf, val.targets, record["rule"])
    assert record["weight"] == expected.weight == metrics["blend/weight"]
    np.testing.assert_allclose(record["thresholds"], expected.thresholds)
    for name in ("blend/test_f1_macro", "blend/test_f1_micro", "blend/test_f1_samples"):
        assert 0.0 <= json.loads((out / "metrics.json").read_text())["metrics"][name] <= 1.0, name


def test_metrics_json_holds_the_multilabel_metrics(multilabel_run):
    metrics, out, _ = multilabel_run
    record = json.loads((out / "metrics.json").read_text())["metrics"]
    for name in ("test/f1_macro", "test/f1_macro_at_0.5", "test/f1_micro", "test/hamming", "test/subset_acc",
                 "test/f1_samples", "val/f1_macro", "val/f1_macro_best", "baseline/test_f1_macro",
                 "thresholds/val_f1_macro"):
        assert name in record and 0.0 <= record[name] <= 1.0, name
    assert record["test/f1_macro"] == pytest.approx(metrics["test/f1_macro"])
    assert "test/acc" not in record  # no single-label accuracy in a multi-label run
    # the monitored val/f1_macro is at the thresholds that epoch chose: the ones written into the best checkpoint
    assert record["thresholds/val_f1_macro"] == pytest.approx(record["val/f1_macro_best"], abs=1e-4)
    assert "val/f1_macro_at_0.5" in record
    report = json.loads((out / "classification_report.json").read_text())
    assert {"micro avg", "macro avg", "weighted avg", "samples avg"} <= set(report)
    assert report["samples avg"]["f1-score"] == pytest.approx(record["test/f1_samples"])
    assert (out / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "baseline" / "classification_report.json").is_file()


def test_thresholds_are_in_the_checkpoint_and_reload_weights_only(multilabel_run):
    from review_cls.inference.checkpoints import load_classifier

    _, out, best = multilabel_run
    raw = torch.load(best, map_location="cpu", weights_only=True)
    stored = raw["hyper_parameters"]["thresholds"]
    chosen = json.loads((out / "thresholds.json").read_text())["thresholds"]
    labels = raw["hyper_parameters"]["labels"]
    assert len(labels) == 6 and stored == [chosen[label] for label in labels]
    assert torch.allclose(raw["state_dict"]["thresholds"], torch.tensor(stored))
    assert raw["hyper_parameters"]["backbone_config"]["problem_type"] == "multi_label_classification"
    assert len(raw["hyper_parameters"]["loss"]["alpha"]) == 6  # pos_weight, one per label
    model, _ = load_classifier(best)
    assert torch.allclose(model.thresholds, torch.tensor(stored))


def test_predict_writes_labels_by_the_stored_thresholds(multilabel_run, multilabel_csv, tmp_path):
    from review_cls.jobs.predict import run_prediction

    _, out, best = multilabel_run
    output = tmp_path / "predictions.csv"
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="predict", overrides=["progress=false", f"ckpt_path={best}",
                                                         f"input={multilabel_csv}", f"output={output}"])
    summary = run_prediction(cfg)
    frame = pd.read_csv(output, keep_default_na=False)
    checkpoint = torch.load(best, weights_only=True)
    labels = checkpoint["hyper_parameters"]["labels"]
    # what predict ships is the blend: each label decided at the threshold chosen on the blended validation split
    thresholds = dict(zip(labels, checkpoint["blend"]["thresholds"]))
    assert thresholds != json.loads((out / "thresholds.json").read_text())["thresholds"]  # not the model's own
    assert summary["predicted"] == len(frame)
    for _, row in frame.head(20).iterrows():
        scores = {label: float(row[f"prob_{label}"]) for label in labels}
        expected = sorted((l for l in labels if scores[l] >= thresholds[l]), key=lambda l: -scores[l])
        assert row["labels"] == "|".join(expected)
        assert str(row["low_confidence"]) == str(any(abs(scores[l] - thresholds[l]) < 0.1 for l in labels))
    # insights count a review once under each label it carries; its confidence there is that label's probability
    insights = tmp_path / "predictions_insights"
    categories = pd.read_csv(insights / "categories.csv").set_index("category")
    carried = frame["labels"].str.split("|").explode()
    carried = carried[carried != ""]
    assert categories["count"].to_dict() == {label: int((carried == label).sum()) for label in labels}
    assert categories["share"].sum() == pytest.approx(len(carried) / len(frame))
    none = int((frame["labels"] == "").sum())
    assert f"{none:,} reviews carry none of the labels" in (insights / "summary.md").read_text()
    examples = pd.read_csv(insights / "top_examples.csv")
    first = examples.iloc[0]
    assert first["confidence"] == pytest.approx(frame.loc[first["row"], f"prob_{first['category']}"], abs=1e-6)
    assert "shares add up to more than 100%" in (insights / "report.html").read_text()


def test_evaluate_scores_a_multilabel_file_with_the_thresholds(multilabel_run, multilabel_csv, tmp_path):
    from review_cls.jobs.evaluate import run_evaluation

    _, _, best = multilabel_run
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="evaluate", overrides=[
            f"ckpt_path={best}", f"data.path={multilabel_csv}", "data.text_column=review",
            "data.label_column=category", "data.label_separator='|'", "device=cpu"])
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp_path / "eval")
    metrics = run_evaluation(cfg)
    assert 0.0 <= metrics["eval/f1_macro"] <= 1.0 and "eval/f1_samples" in metrics
    predictions = pd.read_csv(tmp_path / "eval" / "eval_predictions.csv", keep_default_na=False)
    assert len(predictions) == len(multilabel_frame())
    assert set(predictions.columns) >= {"true_labels", "predicted_labels", "wrong_labels"}


def test_export_holds_the_thresholds_and_pipeline_scores_every_label(multilabel_run, tmp_path):
    from transformers import pipeline

    from review_cls.inference.export_folder import export_model

    _, out, best = multilabel_run
    folder = export_model(best, tmp_path / "export")
    config = json.loads((folder / "config.json").read_text())
    chosen = json.loads((out / "thresholds.json").read_text())["thresholds"]
    assert config["problem_type"] == "multi_label_classification"
    assert config["label_thresholds"] == pytest.approx(chosen)
    card = (folder / "README.md").read_text()
    assert "- loss: binary cross-entropy per label with alpha [" in card and "- task: multi-label" in card
    scores = pipeline("text-classification", model=str(folder), top_k=None)("the app crashes and costs too much")
    scores = scores[0] if isinstance(scores[0], list) else scores
    assert sorted(item["label"] for item in scores) == sorted(chosen)
    assert sum(item["score"] for item in scores) != pytest.approx(1.0, abs=1e-3)  # sigmoids, not a softmax
    from review_cls.inference.predictor import load_predictor

    exported, checkpoint = load_predictor(folder), load_predictor(best)
    assert np.allclose(exported.thresholds, checkpoint.thresholds)
    texts = ["late parcel and a refund that never came"]
    assert np.allclose(exported.predict_probabilities(texts, 8), checkpoint.predict_probabilities(texts, 8), atol=1e-5)


def test_multilabel_task_on_single_label_data_fails_clearly(tiny_bert_dir, small_reviews_csv, tmp_path):
    cfg = multilabel_cfg(tiny_bert_dir, small_reviews_csv, tmp_path / "run", "data.label_separator=null",
                         "data.task=multilabel")
    fails(cfg, DataError, "single-label data")


def test_focal_loss_is_refused_for_multilabel_data(tiny_bert_dir, multilabel_csv, tmp_path):
    fails(multilabel_cfg(tiny_bert_dir, multilabel_csv, tmp_path / "run", "model.gamma=2.0"), ConfigError,
          "model.gamma=2.0", "multi-label")


def test_onnx_export_predicts_the_same_sigmoids_and_thresholds(multilabel_run, tmp_path):
    pytest.importorskip("onnxruntime")
    from review_cls.inference.onnx_runtime import load_onnx_predictor
    from review_cls.inference.predictor import load_predictor
    from review_cls.inference.export_folder import export_model

    _, _, best = multilabel_run
    folder = export_model(best, tmp_path / "onnx", export_format="onnx")
    onnx, torch_model = load_onnx_predictor(folder), load_predictor(best, device="cpu", blend=False)
    assert onnx.task.multilabel and np.allclose(onnx.thresholds, torch_model.thresholds)
    texts = ["the app crashes at login", "coupon did not apply and the parcel came late"]
    assert np.allclose(onnx.predict_probabilities(texts, 8), torch_model.predict_probabilities(texts, 8), atol=1e-4)
    # and what predict ships from it: the blend, with the blend's thresholds, as from the checkpoint
    shipped_onnx, shipped = load_predictor(folder, runtime="onnx"), load_predictor(best)
    np.testing.assert_allclose(shipped_onnx.thresholds, shipped.thresholds)
    assert not np.allclose(shipped.thresholds, torch_model.thresholds)
    assert np.allclose(shipped_onnx.predict_probabilities(texts, 8), shipped.predict_probabilities(texts, 8), atol=1e-4)


def test_baseline_command_fits_one_vs_rest_on_multilabel_data(multilabel_csv, tmp_path):
    from review_cls.jobs.baseline import run_baseline

    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose("baseline", overrides=[f"data.path={multilabel_csv}", f"paths.output_dir={tmp_path}",
                                             "data.text_column=review", "data.label_column=category",
                                             "data.label_separator='|'"])
    metrics = run_baseline(cfg)
    report = json.loads((tmp_path / "classification_report.json").read_text())
    assert metrics["test/f1_macro"] == pytest.approx(report["macro avg"]["f1-score"])
    assert metrics["test/f1_samples"] == pytest.approx(report["samples avg"]["f1-score"])
    assert metrics["val/f1_macro"] > 0.3  # six separable demo categories: far above chance even for TF-IDF
