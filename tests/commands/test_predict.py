"""Predict on unlabeled reviews: chunked reading, kept columns, formats, empty texts, atomic output, insights; what a
checkpoint ships (its blend with TF-IDF, or the model alone) and a damaged TF-IDF file."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from review_cls.cli import run_command
from review_cls.data.io import count_rows, iter_table_chunks, read_table
from review_cls.errors import CheckpointError, ConfigError, DataError
from review_cls.inference.checkpoints import load_classifier
from review_cls.inference.prediction_files import insights_folder
from review_cls.inference.predictor import TorchPredictor, predict_probabilities
from review_cls.jobs.predict import interrupted_note, run_prediction
from review_cls.models.tfidf_store import load_tfidf
from tests.helpers import CONF_DIR, REPO_ROOT

FORMATS = ("csv", "tsv", "jsonl", "parquet", "xlsx")


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    kind = path.suffix[1:]
    if kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif kind == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    elif kind == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_excel(path, index=False)
    return path


def compose_predict(*overrides: str) -> DictConfig:
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose(config_name="predict", overrides=["progress=false", "chunk_size=50", *overrides])


@pytest.fixture(scope="module")
def reviews(small_reviews_csv: Path) -> pd.DataFrame:
    return pd.read_csv(small_reviews_csv, dtype=str)


@pytest.fixture(scope="module")
def expected_probabilities(tiny_checkpoint: Path, reviews: pd.DataFrame) -> np.ndarray:
    """The model's probabilities for every review in one call, no chunking: what predict must reproduce."""
    model, tokenizer = load_classifier(tiny_checkpoint)
    return predict_probabilities(model, tokenizer, reviews["review"].tolist(), model.hparams.max_length, 16)


@pytest.fixture(scope="module")
def csv_run(tiny_checkpoint: Path, small_reviews_csv: Path, tmp_path_factory: pytest.TempPathFactory):
    output = tmp_path_factory.mktemp("predict") / "predictions.csv"
    summary = run_prediction(compose_predict(f"ckpt_path={tiny_checkpoint}", f"input={small_reviews_csv}",
                                             f"output={output}"))
    return summary, output


@pytest.mark.parametrize("kind", FORMATS)
def test_chunked_read_equals_whole_read(small_reviews_csv, tmp_path, kind):
    path = write_table(pd.read_csv(small_reviews_csv), tmp_path / f"reviews.{kind}")
    chunks = list(iter_table_chunks(path, chunk_size=47))
    assert [len(chunk) for chunk in chunks] == [47, 47, 47, 39]
    pd.testing.assert_frame_equal(pd.concat(chunks), read_table(path))
    assert count_rows(path) == (180 if kind in ("parquet", "xlsx") else None)


def test_chunks_as_text_keep_the_files_exact_cells(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("id,review\n007,a\n,b\n12,c\n")
    assert pd.concat(iter_table_chunks(path, chunk_size=2, as_text=True))["id"].fillna("").tolist() == ["007", "", "12"]
    assert pd.concat(iter_table_chunks(path, chunk_size=2))["id"].fillna(-1).tolist() == [7.0, -1, 12.0]


def test_predictions_keep_every_column_and_match_the_model(csv_run, reviews, expected_probabilities):
    """``last.ckpt`` records no blend: the model alone, and the insights say so."""
    summary, output = csv_run
    assert "Predicted by the model alone (no blend with TF-IDF)." in (insights_folder(output) / "summary.md").read_text()
    result = pd.read_csv(output, dtype=str)
    labels = [column.removeprefix("prob_") for column in result.columns if column.startswith("prob_")]
    assert summary == {"rows": 180, "predicted": 180, "empty": 0, "output": str(output)}
    pd.testing.assert_frame_equal(result[reviews.columns], reviews)
    assert list(result.columns) == [*reviews.columns, "predicted_label", "confidence", *[f"prob_{x}" for x in labels]]
    probabilities = result[[f"prob_{label}" for label in labels]].astype(float).to_numpy()
    np.testing.assert_allclose(probabilities, expected_probabilities, atol=1e-6)
    assert result["predicted_label"].tolist() == [labels[i] for i in expected_probabilities.argmax(axis=1)]
    np.testing.assert_allclose(result["confidence"].astype(float), expected_probabilities.max(axis=1), atol=1e-6)


@pytest.mark.parametrize("kind", ["tsv", "jsonl", "parquet", "xlsx"])
def test_every_input_and_output_format_gives_the_same_predictions(tiny_checkpoint, csv_run, reviews, tmp_path, kind):
    source = write_table(reviews, tmp_path / f"reviews.{kind}")
    output = tmp_path / f"predictions.{kind}"
    run_prediction(compose_predict(f"ckpt_path={tiny_checkpoint}", f"input={source}", f"output={output}"))
    expected = pd.read_csv(csv_run[1])
    result = read_table(output)
    assert len(result) == 180
    assert result["predicted_label"].tolist() == expected["predicted_label"].tolist()
    assert result["review"].tolist() == expected["review"].tolist()
    np.testing.assert_allclose(result["confidence"].astype(float), expected["confidence"], atol=1e-6)


@pytest.mark.parametrize("kind", ["jsonl", "parquet"])
def test_empty_texts_get_an_empty_prediction_and_are_counted(tiny_checkpoint, reviews, tmp_path, kind):
    frame = reviews.head(20).copy()
    empty = [0, 1, 2, 3, 4, 7, 11]  # the whole first chunk has no text: its columns must not fix a wrong schema
    frame.loc[empty, "review"] = ["", "   ", None, "", "\t", "", None]
    source = write_table(frame, tmp_path / "gaps.csv")
    output = tmp_path / f"out.{kind}"
    summary = run_prediction(compose_predict(f"ckpt_path={tiny_checkpoint}", f"input={source}", f"output={output}",
                                             "chunk_size=5"))
    assert (summary["rows"], summary["predicted"], summary["empty"]) == (20, 13, 7)
    result = read_table(output)
    assert result.loc[empty, "predicted_label"].isna().all()
    assert result.loc[empty, "confidence"].isna().all()
    assert result["predicted_label"].notna().sum() == 13
    assert "7 rows with an empty text" in (insights_folder(output) / "summary.md").read_text()


def ctrl_c() -> None:
    raise KeyboardInterrupt


def sigterm() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.parametrize(("stop", "name", "code"), [(ctrl_c, "Ctrl+C", 130), (sigterm, "SIGTERM", 143)])
@pytest.mark.parametrize("previous", [None, "old predictions\n"])
def test_a_stop_mid_way_leaves_no_half_file(tiny_checkpoint, small_reviews_csv, tmp_path, monkeypatch, capsys,
                                            previous, stop, name, code):
    output = tmp_path / "predictions.csv"
    if previous is not None:
        output.write_text(previous)
    calls, handler = [], signal.getsignal(signal.SIGTERM)
    real = TorchPredictor.predict_probabilities

    def stop_on_third_chunk(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            stop()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(TorchPredictor, "predict_probabilities", stop_on_third_chunk)
    with pytest.raises(SystemExit) as stopped:  # one line and the shell's code (guarantees/test_output_safety.py)
        run_command(run_prediction, compose_predict(f"ckpt_path={tiny_checkpoint}", f"input={small_reviews_csv}",
                                                    f"output={output}", "overwrite=true"),
                    interrupted=interrupted_note)  # as the predict command starts it
    assert stopped.value.code == code and f"interrupted: predict stopped ({name})" in capsys.readouterr().err
    assert len(calls) == 3
    assert signal.getsignal(signal.SIGTERM) == handler, "the SIGTERM handler is put back"
    assert sorted(path.name for path in tmp_path.iterdir()) == ([] if previous is None else ["predictions.csv"])
    if previous is not None:
        assert output.read_text() == previous


def test_insights_numbers_match_the_predictions(csv_run):
    _, output = csv_run
    result = pd.read_csv(output)
    folder = insights_folder(output)
    assert {path.name for path in folder.iterdir()} == {
        "categories.csv", "categories.png", "top_examples.csv", "weekly_counts.csv", "weekly_counts.png", "summary.md",
        "report.html", "emerging.csv", "topics.csv"}
    categories = pd.read_csv(folder / "categories.csv").set_index("category")
    counts = result["predicted_label"].value_counts()
    assert categories["count"].sum() == 180
    assert categories["count"][counts.index].tolist() == counts.tolist()
    assert categories["share"].sum() == pytest.approx(1.0)
    mean_rating = result.groupby("predicted_label")["rating"].mean()
    np.testing.assert_allclose(categories["mean_rating"][mean_rating.index], mean_rating)

    weeks = pd.to_datetime(result["date"]).dt.to_period("W-SUN").dt.start_time
    expected_weekly = pd.crosstab(weeks, result["predicted_label"])
    weekly = pd.read_csv(folder / "weekly_counts.csv", index_col="week", parse_dates=["week"])
    assert weekly.to_numpy().sum() == 180
    pd.testing.assert_frame_equal(weekly.loc[expected_weekly.index, expected_weekly.columns], expected_weekly,
                                  check_names=False, check_dtype=False, check_freq=False)
    assert (weekly.drop(index=expected_weekly.index).to_numpy() == 0).all()

    examples = pd.read_csv(folder / "top_examples.csv")
    for label, group in result.groupby("predicted_label"):
        best = group.sort_values("confidence", ascending=False, kind="stable").head(5)
        shown = examples[examples["category"] == label].sort_values("rank")
        assert shown["row"].tolist() == best.index.tolist()
        assert shown["text"].tolist() == best["review"].tolist()
    assert "| category | count | share | mean_rating |" in (folder / "summary.md").read_text()


def test_rerun_replaces_the_insights_folder(tiny_checkpoint, reviews, tmp_path):
    output = tmp_path / "p.csv"
    for rows in (30, 10):
        source = write_table(reviews.head(rows).drop(columns=["date", "rating"]), tmp_path / "in.csv")
        run_prediction(compose_predict(f"ckpt_path={tiny_checkpoint}", f"input={source}", f"output={output}",
                                       "overwrite=true"))
    folder = insights_folder(output)
    assert pd.read_csv(folder / "categories.csv")["count"].sum() == 10
    assert not (folder / "weekly_counts.csv").exists()
    assert "mean_rating" not in pd.read_csv(folder / "categories.csv")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv", "p.csv", "p_insights"]


def test_without_insights_predict_says_no_report_page_is_written(tiny_checkpoint, reviews, tmp_path, caplog):
    source = write_table(reviews.head(5), tmp_path / "in.csv")
    with caplog.at_level(logging.INFO, logger="review_cls.inference.batch_predict"):
        run_prediction(compose_predict(f"ckpt_path={tiny_checkpoint}", f"input={source}",
                                       f"output={tmp_path / 'p.csv'}", "insights=false", "report=true"))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv", "p.csv"]
    assert "insights=false: no insights folder and no report page, whatever report says" in caplog.text


def test_explicit_date_and_rating_columns(tiny_checkpoint, reviews, tmp_path):
    frame = reviews.head(40).rename(columns={"date": "posted", "rating": "stars_given"})
    source = write_table(frame, tmp_path / "in.csv")
    output = tmp_path / "p.csv"
    run_prediction(compose_predict(f"ckpt_path={tiny_checkpoint}", f"input={source}", f"output={output}",
                                   "date_column=posted", "rating_column=stars_given"))
    folder = insights_folder(output)
    assert pd.read_csv(folder / "weekly_counts.csv").drop(columns="week").to_numpy().sum() == 40
    assert pd.read_csv(folder / "categories.csv")["rated_reviews"].sum() == 40


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"input": "nowhere.csv"}, DataError, "nowhere.csv' does not exist"),
        ({"text_column": "content"}, DataError, "no text column 'content'. Columns: review_id, review, category"),
        ({"text_column": "rating"}, DataError, "text_column 'rating' of"),
        ({"input": "BAD_EXT"}, DataError, "unknown extension '.docx'"),
        ({"output": "out.pdf"}, DataError, "unknown extension '.pdf'"),
        ({"ckpt_path": "CORRUPT"}, CheckpointError, "cannot be read"),
        ({"ckpt_path": "EMPTY_DIR"}, CheckpointError, "not an exported model"),
        ({"date_column": "when"}, DataError, "date_column='when' is not a column"),
        ({"output": "SAME"}, ConfigError, "is the file written as"),
        ({"chunk_size": "0"}, ConfigError, "chunk_size must be a whole number >= 1"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(tiny_checkpoint, small_reviews_csv, tmp_path, change, error,
                                                         message):
    (tmp_path / "bad.ckpt").write_bytes(os.urandom(256))
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "notes.docx").write_text("x")
    specials = {"BAD_EXT": tmp_path / "notes.docx", "CORRUPT": tmp_path / "bad.ckpt",
                "EMPTY_DIR": tmp_path / "empty_dir", "SAME": small_reviews_csv,
                "nowhere.csv": tmp_path / "nowhere.csv", "out.pdf": tmp_path / "out.pdf"}
    settings = {"ckpt_path": tiny_checkpoint, "input": small_reviews_csv, "output": tmp_path / "p.csv"}
    settings |= {key: specials.get(value, value) for key, value in change.items()}
    before = sorted(path.name for path in tmp_path.iterdir())
    with pytest.raises(error, match=message.replace(".", r"\.").replace("(", r"\(")):
        run_prediction(compose_predict(*(f"{key}={value}" for key, value in settings.items())))
    assert sorted(path.name for path in tmp_path.iterdir()) == before


def test_command_line_predicts_without_leaving_hydra_folders(tiny_checkpoint, small_reviews_csv, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    command = [sys.executable, "-m", "review_cls.predict", f"ckpt_path={tiny_checkpoint}",
               f"input={small_reviews_csv}", "output=out/predictions.parquet"]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(path.name for path in work.iterdir()) == ["out"]
    assert sorted(path.name for path in (work / "out").iterdir()) == ["predictions.parquet", "predictions_insights"]
    assert len(pd.read_parquet(work / "out" / "predictions.parquet")) == 180
    assert "predict: 180 rows" in result.stderr

    missing = subprocess.run([*command[:4], "input=missing.csv", "output=p.csv"], cwd=work, capture_output=True,
                             text=True, timeout=600, env=env)
    assert missing.returncode == 2
    assert "error: Data file 'missing.csv' does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_missing_settings_say_what_to_set(small_reviews_csv):
    with pytest.raises(ConfigError, match=r"Set ckpt_path=\.\.\., output=\.\.\. \(usage: python -m review_cls"):
        run_prediction(compose_predict(f"input={small_reviews_csv}"))


@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_an_export_folder_without_its_tokenizer_files_is_refused(tiny_checkpoint, small_reviews_csv, tmp_path,
                                                                 runtime):
    from review_cls.inference.export_folder import VOCAB_FILES
    from review_cls.inference.export_folder import export_model

    folder = export_model(tiny_checkpoint, tmp_path / "model", export_format="hf" if runtime == "torch" else "onnx")
    for name in (*VOCAB_FILES, "tokenizer_config.json", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    output = tmp_path / "predictions.csv"
    with pytest.raises(CheckpointError, match="holds no usable tokenizer .* every word would be read as \\[UNK\\]"):
        run_prediction(compose_predict(f"ckpt_path={folder}", f"runtime={runtime}", f"input={small_reviews_csv}",
                                       f"output={output}"))
    assert not output.exists()


@pytest.fixture(scope="module")
def blend_parts(blended_checkpoint: Path, reviews: pd.DataFrame) -> tuple[float, np.ndarray, np.ndarray]:
    """The best checkpoint's recorded weight, and its model's and its run's TF-IDF probabilities for every review."""
    weight = torch.load(blended_checkpoint, weights_only=True)["blend"]["weight"]
    assert 0.0 < weight < 1.0  # a true mix, so the blend and the model alone differ
    model, tokenizer = load_classifier(blended_checkpoint)
    texts = reviews["review"].tolist()
    tfidf = load_tfidf(blended_checkpoint.parent.parent / "baseline" / "tfidf.npz")
    return weight, predict_probabilities(model, tokenizer, texts, model.hparams.max_length, 16), \
        tfidf.predict_probabilities(texts)


@pytest.mark.parametrize("blend", ["true", "false"])
def test_predict_ships_the_checkpoints_blend_and_blend_false_the_model_alone(blended_checkpoint, small_reviews_csv,
                                                                            blend_parts, tmp_path, blend):
    weight, model, tfidf = blend_parts
    output = tmp_path / "predictions.csv"
    run_prediction(compose_predict(f"ckpt_path={blended_checkpoint}", f"input={small_reviews_csv}",
                                   f"output={output}", f"blend={blend}"))
    result = pd.read_csv(output)
    labels = [column.removeprefix("prob_") for column in result.columns if column.startswith("prob_")]
    expected = weight * model + (1 - weight) * tfidf if blend == "true" else model
    np.testing.assert_allclose(result[[f"prob_{label}" for label in labels]], expected, atol=1e-6)
    assert result["predicted_label"].tolist() == [labels[i] for i in expected.argmax(axis=1)]
    rule = torch.load(blended_checkpoint, weights_only=True)["blend"]["rule"]
    said = (f"Predicted by the model blended with its TF-IDF baseline ({weight:.2f} model + {1 - weight:.2f} TF-IDF, "
            f"rule {rule})." if blend == "true" else "Predicted by the model alone (no blend with TF-IDF).")
    assert said in (insights_folder(output) / "summary.md").read_text()
    assert said.removeprefix("Predicted by ").removesuffix(".") in (insights_folder(output) / "report.html").read_text()


def test_a_checkpoint_without_a_blend_predicts_with_the_model_alone_and_says_so_once(tiny_checkpoint,
                                                                                   small_reviews_csv, tmp_path,
                                                                                   caplog):
    with caplog.at_level(logging.WARNING):
        run_prediction(compose_predict(f"ckpt_path={tiny_checkpoint}", f"input={small_reviews_csv}",
                                       f"output={tmp_path / 'p.csv'}", "insights=false"))
    said = [record for record in caplog.records if "predicting with the model alone" in record.getMessage()]
    assert len(said) == 1 and "records no blend" in said[0].getMessage()  # once, not once per chunk


@pytest.mark.parametrize("damage", ["missing", "changed"])
def test_a_missing_or_changed_tfidf_file_is_one_error_line_naming_it(blended_checkpoint, small_reviews_csv, tmp_path,
                                                                    capsys, damage):
    run = Path(shutil.copytree(blended_checkpoint.parent.parent, tmp_path / "run"))
    tfidf = run / "baseline" / "tfidf.npz"
    if damage == "missing":
        tfidf.unlink()
    else:
        tfidf.write_bytes(tfidf.read_bytes()[:-10] + b"0123456789")
    output = tmp_path / "p.csv"
    cfg = compose_predict(f"ckpt_path={run / 'checkpoints' / blended_checkpoint.name}", f"input={small_reviews_csv}",
                          f"output={output}")
    with pytest.raises(SystemExit) as stopped:
        run_command(run_prediction, cfg, interrupted=interrupted_note)  # as the predict command starts it
    error = capsys.readouterr().err
    assert stopped.value.code == 2 and error.startswith(f"error: '{tfidf}'")
    assert ("is missing" if damage == "missing" else "was changed after it was written") in error
    assert "blend=false for the model alone" in error and "Traceback" not in error
    assert not output.exists()
