"""Run reports: files exist after a tiny run, their numbers equal the logged test metrics, TensorBoard has them."""

from __future__ import annotations

import contextlib
import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from review_cls.inference.checkpoints import load_classifier
from review_cls.inference.predictor import predict_probabilities
from review_cls.jobs.train import run_training
from review_cls.reports.curves import best_epoch
from review_cls.training.run_reports import training_facts

SUMMARIES: dict = {}


ARTIFACTS = ("training_curves.png", "history.csv", "confusion_matrix.png", "classification_report.txt",
             "classification_report.json", "test_predictions.csv")


@pytest.fixture(scope="module")
def tiny_run(tiny_bert_dir, small_reviews_csv, tmp_path_factory):
    """One 2-epoch tiny-BERT run (with its printed summary) shared by the tests of this file."""
    from tests.helpers import tiny_train_cfg

    out = tmp_path_factory.mktemp("report_run")
    cfg = tiny_train_cfg(tiny_bert_dir, small_reviews_csv, out, "model.dropout=0.2", "experiment_name=reports_test")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        metrics = run_training(cfg)
    SUMMARIES[out] = printed.getvalue()
    return cfg, metrics, out


def test_every_artifact_is_written(tiny_run):
    _, _, out = tiny_run
    for name in ARTIFACTS:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert not list(out.glob(".*.tmp")), "temporary files left behind"


def test_the_validation_predictions_of_the_model_and_of_tfidf_cover_the_validation_split(tiny_run):
    """What the blend with TF-IDF is chosen on: both readers' probabilities for every validation review."""
    _, _, out = tiny_run
    val_ids = sorted(json.loads((out / "split.json").read_text())["val"])
    model, tokenizer = load_classifier(next((out / "checkpoints").glob("best-epoch*.ckpt")))
    for folder in (out, out / "baseline"):
        predictions = pd.read_csv(folder / "val_predictions.csv")
        assert sorted(predictions["row_id"]) == val_ids
        np.testing.assert_allclose(predictions.filter(like="prob_").sum(axis=1), 1.0, atol=1e-5)
    predictions = pd.read_csv(out / "val_predictions.csv")
    expected = predict_probabilities(model, tokenizer, predictions["text"].tolist(), model.hparams.max_length, 64)
    np.testing.assert_allclose(predictions[[f"prob_{label}" for label in model.labels]], expected, atol=1e-4)


def test_classification_report_equals_logged_test_metrics(tiny_run):
    _, metrics, out = tiny_run
    report = json.loads((out / "classification_report.json").read_text())
    assert report["accuracy"] == pytest.approx(metrics["test/acc"], abs=1e-6)
    assert report["macro avg"]["f1-score"] == pytest.approx(metrics["test/f1_macro"], abs=1e-6)
    assert report["weighted avg"]["f1-score"] == pytest.approx(metrics["test/f1_weighted"], abs=1e-6)
    labels = sorted(pd.read_csv(out / "test_predictions.csv")["true_label"].unique())
    for label in labels:
        assert report[label]["f1-score"] == pytest.approx(metrics[f"test/f1/{label}"], abs=1e-6)
        assert report[label]["recall"] == pytest.approx(metrics[f"test/recall/{label}"], abs=1e-6)
    text = (out / "classification_report.txt").read_text()
    assert "macro avg" in text and all(label in text for label in labels)


def test_predictions_cover_the_test_split_worst_mistakes_first(tiny_run):
    _, _, out = tiny_run
    predictions = pd.read_csv(out / "test_predictions.csv")
    test_ids = json.loads((out / "split.json").read_text())["test"]
    assert sorted(predictions["row_id"]) == sorted(test_ids)
    probabilities = predictions.filter(like="prob_")
    assert probabilities.shape[1] == 6
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (predictions["predicted_label"] == probabilities.idxmax(axis=1).str.removeprefix("prob_")).all()
    assert (predictions["correct"] == (predictions["true_label"] == predictions["predicted_label"])).all()
    # the probabilities are the tested (best) checkpoint's, not the last epoch's weights
    model, tokenizer = load_classifier(next((out / "checkpoints").glob("best-epoch*.ckpt")))
    expected = predict_probabilities(model, tokenizer, predictions["text"].tolist(), model.hparams.max_length, 64)
    np.testing.assert_allclose(probabilities[[f"prob_{label}" for label in model.labels]], expected, atol=1e-4)
    wrong = predictions[~predictions["correct"]]
    assert list(predictions["correct"]) == sorted(predictions["correct"])
    assert wrong["confidence"].is_monotonic_decreasing
    assert predictions[predictions["correct"]]["confidence"].is_monotonic_increasing


def test_history_has_one_row_per_epoch_and_marks_the_tested_epoch(tiny_run):
    _, metrics, out = tiny_run
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == [0, 1]
    for column in ("train/loss", "train/f1_macro", "val/loss", "val/f1_macro"):
        assert history[column].notna().all(), column
    # the train metrics of epoch 0 are its own, not the stale values of another epoch
    assert history.loc[0, "train/f1_macro"] != history.loc[1, "train/f1_macro"]
    assert history["val/f1_macro"].iloc[-1] == pytest.approx(metrics["val/f1_macro"], abs=1e-6)
    best = best_epoch(history, "val/f1_macro", "max")
    best_name = next((out / "checkpoints").glob("best-epoch*.ckpt")).stem
    assert best_name == f"best-epoch{best:02d}"


def test_tensorboard_holds_report_images_and_real_hparams(tiny_run):
    _, metrics, out = tiny_run
    events = EventAccumulator(str(out), size_guidance={"images": 0, "tensors": 0, "scalars": 0}).Reload()
    tags = events.Tags()
    assert {"reports/confusion_matrix", "reports/training_curves"} <= set(tags["images"])
    assert events.Images("reports/confusion_matrix")[-1].width > 300
    start = plugin_data_pb2.HParamsPluginData.FromString(
        events.SummaryMetadata("_hparams_/session_start_info").plugin_data.content).session_start_info
    hparams = {name: value.ListFields()[0][1] for name, value in start.hparams.items()}
    assert hparams["model.lr"] == pytest.approx(1e-3)
    assert hparams["model.dropout"] == pytest.approx(0.2)
    assert hparams["experiment_name"] == "reports_test"
    assert hparams["data.resampling.strategy"] == "none" and hparams["seed"] == 42
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        events.SummaryMetadata("_hparams_/experiment").plugin_data.content).experiment
    metric_tags = {info.name.tag for info in experiment.metric_infos}
    assert metric_tags == {"hparams/best_val_f1_macro", "hparams/test_f1_macro", "hparams/test_f1_weighted",
                           "hparams/test_acc", "hparams/blend_test_f1_macro", "hparams/blend_weight"}
    assert events.Scalars("hparams/blend_test_f1_macro")[-1].value == pytest.approx(metrics["blend/test_f1_macro"])
    assert events.Scalars("blend/weight")[-1].value == pytest.approx(metrics["blend/weight"])  # the scalars too
    assert events.Scalars("hparams/test_f1_macro")[-1].value == pytest.approx(metrics["test/f1_macro"], abs=1e-6)
    history = pd.read_csv(out / "history.csv")
    best_val = history["val/f1_macro"].max()
    assert events.Scalars("hparams/best_val_f1_macro")[-1].value == pytest.approx(best_val, abs=1e-6)
    assert "hp_metric" not in tags["scalars"]
    # history.csv holds the very epoch values TensorBoard got (train metrics of their own epoch, not a stale one)
    logged = [event.value for event in events.Scalars("train/f1_macro")]
    np.testing.assert_allclose(logged, history["train/f1_macro"], atol=1e-6)


def test_history_survives_resume(tiny_run, tmp_path):
    cfg, _, out = tiny_run
    from omegaconf import open_dict

    resumed = cfg.copy()
    with open_dict(resumed):
        resumed.paths.output_dir = str(tmp_path)
        resumed.ckpt_path = str(out / "checkpoints" / "last.ckpt")
        resumed.trainer.max_epochs = 3
        resumed.baseline = False
    with contextlib.redirect_stdout(io.StringIO()):
        run_training(resumed)
    before, after = pd.read_csv(out / "history.csv"), pd.read_csv(tmp_path / "history.csv")
    assert list(after["epoch"]) == [0, 1, 2]
    pd.testing.assert_frame_equal(after.iloc[:2][before.columns], before, check_dtype=False)


def test_summary_names_best_epoch_scores_artifacts_and_tensorboard(tiny_run):
    cfg, metrics, out = tiny_run
    shown = SUMMARIES[out]
    history = pd.read_csv(out / "history.csv")
    assert re.search(rf"best epoch\s+{best_epoch(history, 'val/f1_macro', 'max')} \(of 2, by val/f1_macro\)", shown)
    assert f"{metrics['test/f1_macro']:.4f}" in shown and f"{history['val/f1_macro'].max():.4f}" in shown
    report = json.loads((out / "classification_report.json").read_text())
    for label in ("app_bug_performance", "delivery_logistics"):
        row = next(line for line in shown.splitlines() if f" {label} " in line)
        assert f"{report[label]['f1-score']:.3f}" in row and str(int(report[label]["support"])) in row
    assert "test_predictions.csv" in shown.replace("\n", "") and "tensorboard --logdir" in shown
    # three rows: the model, the TF-IDF baseline, and their blend (what predict ships) with its weight and rule
    rows = " ".join(shown.replace("│", " ").split())
    assert f"model val macro-F1 {history['val/f1_macro'].max():.4f} test macro-F1 {metrics['test/f1_macro']:.4f}" in rows
    assert (f"TF-IDF val macro-F1 {metrics['baseline/val_f1_macro']:.4f} test macro-F1 "
            f"{metrics['baseline/test_f1_macro']:.4f}") in rows
    assert (f"blend val macro-F1 {metrics['blend/val_f1_macro']:.4f} test macro-F1 {metrics['blend/test_f1_macro']:.4f} "
            f"(model share {metrics['blend/weight']:.2f}, rule {cfg.blend.rule}): what review_cls.predict ships") in rows


@pytest.mark.parametrize("reason", ["blend=null", "baseline=false: no TF-IDF baseline to blend with", "test=false"])
def test_a_run_without_a_blend_says_so_in_one_line(reason):
    metrics = {"test/f1_macro": 0.8, "baseline/val_f1_macro": 0.7, "baseline/test_f1_macro": 0.75}
    facts = training_facts(metrics, None, None, "val/f1_macro", 0.81, reason)
    assert facts["blend"] == f"none ({reason}): review_cls.predict ships the model alone"
    assert facts["model"] == "val macro-F1 0.8100   test macro-F1 0.8000"
    assert facts["TF-IDF"] == "val macro-F1 0.7000   test macro-F1 0.7500"


def test_a_multilabel_blend_row_adds_its_micro_and_samples_f1():
    metrics = {"blend/val_f1_macro": 0.6, "blend/test_f1_macro": 0.62, "blend/weight": 0.35,
               "blend/test_f1_micro": 0.7, "blend/test_f1_samples": 0.71}
    assert training_facts(metrics, None, None, "val/f1_macro", None, "log_loss")["blend"] == (
        "val macro-F1 0.6000   test macro-F1 0.6200   test micro-F1 0.7000   test samples-F1 0.7100   (model share "
        "0.35, rule log_loss): what review_cls.predict ships")
