"""``review_cls.evaluate``: reports for a labeled file (what predict ships by default: the checkpoint's blend with
TF-IDF), and labels the model does not know are never mapped silently."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict
from sklearn.metrics import f1_score

from review_cls.errors import ConfigError, DataError
from review_cls.inference.blended_predictor import BlendedPredictor, predictor_line
from review_cls.inference.checkpoints import load_classifier
from review_cls.inference.predictor import load_predictor, predict_probabilities
from review_cls.jobs.evaluate import run_evaluation
from tests.helpers import CONF_DIR, REPO_ROOT

REPORTS = ("confusion_matrix.png", "classification_report.txt", "classification_report.json", "eval_predictions.csv")


def evaluate_cfg(out: Path, *overrides: str) -> DictConfig:
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="evaluate", overrides=["data.text_column=review", "data.label_column=category",
                                                         *overrides])
    with open_dict(cfg):
        cfg.paths.output_dir = str(out)
    return cfg


@pytest.fixture
def relabeled_csv(small_reviews_csv: Path, tmp_path: Path) -> Path:
    """The small CSV with ui_ux renamed 'UI_UX' and delivery_logistics renamed 'shipping': both unknown to the model."""
    frame = pd.read_csv(small_reviews_csv)
    frame["category"] = frame["category"].replace({"ui_ux": "UI_UX", "delivery_logistics": "shipping"})
    path = tmp_path / "relabeled.csv"
    frame.to_csv(path, index=False)
    return path


def test_evaluate_writes_reports_for_every_row_with_the_models_predictions(tiny_checkpoint, small_reviews_csv,
                                                                          tmp_path):
    out = tmp_path / "eval"
    metrics = run_evaluation(evaluate_cfg(out, f"ckpt_path={tiny_checkpoint}", f"data.path={small_reviews_csv}"))
    for name in REPORTS:
        assert (out / name).is_file(), name
    source = pd.read_csv(small_reviews_csv)
    predictions = pd.read_csv(out / "eval_predictions.csv").sort_values("row_id")
    assert list(predictions["row_id"]) == list(range(len(source)))  # no split: every row of the file
    assert list(predictions["true_label"]) == list(source["category"])
    model, tokenizer = load_classifier(tiny_checkpoint)
    expected = predict_probabilities(model, tokenizer, source["review"].tolist(), model.hparams.max_length, 64)
    assert list(predictions["predicted_label"]) == [model.labels[i] for i in expected.argmax(axis=1)]
    assert metrics["eval/f1_macro"] == pytest.approx(
        f1_score(predictions["true_label"], predictions["predicted_label"], average="macro", zero_division=0))


def test_unknown_labels_are_named_in_the_error(tiny_checkpoint, relabeled_csv, tmp_path):
    out = tmp_path / "eval"
    with pytest.raises(DataError) as caught:
        run_evaluation(evaluate_cfg(out, f"ckpt_path={tiny_checkpoint}", f"data.path={relabeled_csv}"))
    message = str(caught.value)
    assert "'shipping' (30 rows)" in message and "'UI_UX' (30 rows)" in message
    assert "drop_unknown_labels=true" in message and "case-sensitive" in message
    assert not out.exists() or not any(out.iterdir())


def test_drop_unknown_labels_leaves_those_rows_out(tiny_checkpoint, relabeled_csv, tmp_path, caplog):
    out = tmp_path / "eval"
    run_evaluation(evaluate_cfg(out, f"ckpt_path={tiny_checkpoint}", f"data.path={relabeled_csv}",
                                "drop_unknown_labels=true"))
    predictions = pd.read_csv(out / "eval_predictions.csv")
    assert len(predictions) == 120
    assert not set(predictions["true_label"]) & {"shipping", "UI_UX", "ui_ux", "delivery_logistics"}
    assert "left out 60 row(s)" in caplog.text
    source = pd.read_csv(relabeled_csv)
    kept = source.loc[predictions["row_id"]]
    assert list(kept["category"]) == list(predictions["true_label"])  # row ids still point at the file's rows


def test_missing_settings_say_what_to_set(tmp_path, small_reviews_csv):
    with pytest.raises(ConfigError, match="ckpt_path="):
        run_evaluation(evaluate_cfg(tmp_path, f"data.path={small_reviews_csv}"))
    with pytest.raises(ConfigError, match="data.path="):
        run_evaluation(evaluate_cfg(tmp_path, "ckpt_path=x.ckpt", "data.path=null"))


def test_evaluate_command_writes_a_new_run_folder(tiny_checkpoint, small_reviews_csv, tmp_path):
    command = [sys.executable, "-m", "review_cls.evaluate", f"ckpt_path={tiny_checkpoint}",
               f"data.path={small_reviews_csv}", "data.text_column=review", "data.label_column=category",
               f"paths.log_dir={tmp_path}"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = (tmp_path / "evaluate" / "runs").iterdir()
    assert all((run / name).is_file() for name in REPORTS)
    assert (run / ".hydra" / "config.yaml").is_file()
    assert "macro-F1" in done.stdout and "eval_predictions.csv" in done.stdout


@pytest.mark.parametrize(("override", "error", "fragment"), [
    ("ckpt_path=missing.ckpt", "CheckpointError", "does not exist"),
    ("device=gpu0", "ConfigError", "device=gpu0 is not usable here"),
    ("drop_unknown_labels=perhaps", "ConfigError", "drop_unknown_labels must be true or false"),
    ("blend=maybe", "ConfigError", "blend must be true or false"),
    ("data.eval_batch_size=0", "ConfigError", "data.eval_batch_size must be a whole number >= 1"),
])
def test_a_failed_evaluate_leaves_no_run_folder(tiny_checkpoint, small_reviews_csv, tmp_path, override, error,
                                                fragment):
    from review_cls.cli import started
    from tests.helpers import hydra_like_run

    cfg = evaluate_cfg(tmp_path / "run", f"ckpt_path={tiny_checkpoint}", f"data.path={small_reviews_csv}", override)
    run_dir = hydra_like_run(cfg)
    with pytest.raises(Exception) as caught:
        started(run_evaluation, cfg, run_folder=True)  # as the evaluate command starts it
    assert type(caught.value).__name__ == error and fragment in str(caught.value)
    assert not run_dir.exists()


@pytest.mark.parametrize("blend", [True, False])
def test_evaluate_scores_what_predict_ships_by_default_and_says_which(blended_checkpoint, small_reviews_csv, tmp_path,
                                                                     capsys, blend):
    out = tmp_path / "eval"
    metrics = run_evaluation(evaluate_cfg(out, f"ckpt_path={blended_checkpoint}", f"data.path={small_reviews_csv}",
                                          f"blend={str(blend).lower()}"))
    predictions = pd.read_csv(out / "eval_predictions.csv").sort_values("row_id")
    shipped = load_predictor(blended_checkpoint, blend=blend)
    assert isinstance(shipped, BlendedPredictor) is blend
    expected = shipped.predict_probabilities(pd.read_csv(small_reviews_csv)["review"].tolist(), 64)
    probabilities = predictions[[f"prob_{label}" for label in shipped.labels]].to_numpy()
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)
    assert metrics["eval/f1_macro"] == pytest.approx(
        f1_score(predictions["true_label"], predictions["predicted_label"], average="macro", zero_division=0))
    panel = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert f"predicted by {predictor_line(shipped)}" in panel


def test_evaluate_never_writes_its_reports_over_the_file_it_scores(tiny_checkpoint, small_reviews_csv, tmp_path):
    data = tmp_path / "eval_predictions.csv"  # an earlier evaluation's predictions, in the run folder given again
    data.write_bytes(small_reviews_csv.read_bytes())
    with pytest.raises(ConfigError, match=r"data.path='.*eval_predictions.csv' is the file written as .*"
                                          r"\(hydra.run.dir\)"):
        run_evaluation(evaluate_cfg(tmp_path, f"ckpt_path={tiny_checkpoint}", f"data.path={data}"))
    assert data.read_bytes() == small_reviews_csv.read_bytes()
