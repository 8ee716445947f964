"""Bad input ends in one clear project error, before training, without leaving a run folder that looks real."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from review_cls.cli import run_command
from review_cls.data.datamodule import ReviewDataModule
from review_cls.data.io import read_table
from review_cls.errors import CheckpointError, ConfigError, DataError, ReviewClsError
from review_cls.inference.checkpoints import (
    load_classifier,
    read_checkpoint,
    resolve_ckpt_path,
)
from review_cls.jobs.train import run_training
from review_cls.training.failed_runs import ERROR_FILE, settle_failed_run
from tests.conftest import REPO_ROOT


def hydra_like_run(cfg) -> Path:
    """What Hydra has written into a run folder before the job starts: the resolved config and the log file."""
    run_dir = Path(cfg.paths.output_dir)
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text("seed: 42\n")
    (run_dir / "train.log").write_text("")
    return run_dir


def fails(cfg, error: type[ReviewClsError], *fragments: str) -> str:
    """Run training, expect ``error`` whose message holds every fragment, and a removed run folder."""
    run_dir = hydra_like_run(cfg)
    with pytest.raises(error) as caught:
        run_training(cfg)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    assert not run_dir.exists(), f"a failed run left {sorted(p.name for p in run_dir.iterdir())}"
    return message


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def reviews(n_per_class: int = 12, classes: tuple[str, ...] = ("bug", "delivery", "price")) -> pd.DataFrame:
    rows = [(f"review {label} number {i}", label) for label in classes for i in range(n_per_class)]
    return pd.DataFrame(rows, columns=["review", "category"])


# ---------------------------------------------------------------- files


def test_missing_file(compose_train_cfg, tmp_path):
    fails(compose_train_cfg(data_path=tmp_path / "nope.csv"), DataError, "nope.csv", "does not exist", "working directory")


def test_unknown_extension(compose_train_cfg, tmp_path):
    path = tmp_path / "reviews.docx"
    path.write_text("x")
    fails(compose_train_cfg(data_path=path), DataError, "reviews.docx", "unknown extension '.docx'", ".csv", ".xlsx")


def test_non_utf8_csv_names_the_encoding_option_and_the_option_works(compose_train_cfg, tmp_path):
    path = tmp_path / "big5.csv"
    frame = reviews()
    frame["review"] = frame["review"] + " 出貨很慢"
    path.write_bytes(frame.to_csv(index=False).encode("big5"))
    fails(compose_train_cfg(data_path=path), DataError, "big5.csv", "Cannot decode", "data.encoding=")
    assert read_table(path, encoding="big5")["review"].str.contains("出貨很慢").all()


def test_unknown_encoding_is_a_config_error(compose_train_cfg):
    fails(compose_train_cfg("data.encoding=klingon"), ConfigError, "data.encoding='klingon'", "utf-8")


def test_excel_without_the_named_sheet_lists_the_sheets(compose_train_cfg, tmp_path):
    path = tmp_path / "reviews.xlsx"
    reviews().to_excel(path, sheet_name="Reviews", index=False)
    fails(compose_train_cfg("data.sheet_name=Sheet9", data_path=path), DataError, "reviews.xlsx", "no sheet 'Sheet9'", "Reviews")


@pytest.mark.parametrize("name", ["empty.csv", "empty.xlsx", "empty.parquet", "empty.jsonl"])
def test_zero_byte_file(compose_train_cfg, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    fails(compose_train_cfg(data_path=path), DataError, name, "is empty (0 bytes)")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_header_only_file(compose_train_cfg, tmp_path, suffix):
    path = tmp_path / f"header{suffix}"
    frame = pd.DataFrame({"review": pd.Series(dtype=str), "category": pd.Series(dtype=str)})
    {".csv": frame.to_csv, ".xlsx": frame.to_excel, ".parquet": frame.to_parquet}[suffix](path, index=False)
    fails(compose_train_cfg(data_path=path), DataError, path.name, "has no rows")


# ---------------------------------------------------------------- columns and values


@pytest.mark.parametrize("setting", ["data.text_column=content", "data.label_column=topic"])
def test_missing_column_lists_the_columns_present(compose_train_cfg, setting):
    wanted = setting.split("=")[1]
    fails(compose_train_cfg(setting), DataError, f"'{wanted}' not found", "Columns present: 'review_id', 'review', 'category'")


def test_all_texts_empty(compose_train_cfg, tmp_path):
    frame = reviews()
    frame["review"] = ["  "] * (len(frame) - 1) + [None]
    path = write_csv(tmp_path / "blank.csv", frame)
    fails(compose_train_cfg(data_path=path), DataError, "'review'", "is empty", "blank.csv")


def test_nan_labels_name_the_rows(compose_train_cfg, tmp_path):
    frame = reviews()
    frame.loc[[3, 7], "category"] = None
    path = write_csv(tmp_path / "nan_labels.csv", frame)
    fails(compose_train_cfg(data_path=path), DataError, "'category'", "empty in 2 row(s)", "[5, 9]")


def test_labels_that_mix_types(compose_train_cfg, tmp_path):
    frame = reviews().astype(object)
    frame.loc[0, "category"] = 3
    path = tmp_path / "mixed.jsonl"
    frame.to_json(path, orient="records", lines=True)
    fails(compose_train_cfg(data_path=path), DataError, "mixes value types", "int (e.g. 3)", "str")


def test_duplicate_column_names_after_reading(tmp_path):
    from review_cls.data.prepare import clean_reviews

    frame = pd.DataFrame([["a", "x", "y"]], columns=["review", "category", "category"])
    with pytest.raises(DataError, match="'category' occur more than once"):
        clean_reviews(frame, "review", "category", "dup.csv")


# ---------------------------------------------------------------- classes and split


def test_class_too_small_names_it_and_its_count(compose_train_cfg, tmp_path):
    frame = pd.concat([reviews(), pd.DataFrame({"review": ["lonely review"], "category": ["rare"]})])
    path = write_csv(tmp_path / "rare.csv", frame)
    fails(compose_train_cfg(data_path=path), DataError, "'rare' has 1", "data.min_class_count=3")


def test_min_class_count_drops_the_class_with_a_warning(tiny_bert_dir, tmp_path, caplog):
    frame = pd.concat([reviews(), pd.DataFrame({"review": ["lonely review", "second"], "category": ["rare"] * 2})])
    path = write_csv(tmp_path / "rare.csv", frame)
    datamodule = ReviewDataModule(
        path=str(path), text_column="review", label_column="category", tokenizer=str(tiny_bert_dir),
        val_size=0.2, test_size=0.2, min_class_count=3,
    )
    with caplog.at_level(logging.WARNING):
        datamodule.setup("fit")
    assert datamodule.labels == ["bug", "delivery", "price"]
    assert "'rare': 2" in caplog.text or "rare" in caplog.text


def test_min_class_count_that_drops_everything(tiny_bert_dir, tmp_path):
    path = write_csv(tmp_path / "few.csv", reviews(n_per_class=3))
    datamodule = ReviewDataModule(path=str(path), text_column="review", label_column="category",
                                  tokenizer=str(tiny_bert_dir), min_class_count=50)
    with pytest.raises(DataError, match="No reviews left"):
        datamodule.setup("fit")


def test_single_class(compose_train_cfg, tmp_path):
    path = write_csv(tmp_path / "one.csv", reviews(classes=("bug",)))
    fails(compose_train_cfg(data_path=path), DataError, "single class ('bug')")


def test_split_too_small_for_the_number_of_classes(compose_train_cfg, tmp_path):
    path = write_csv(tmp_path / "many.csv", reviews(n_per_class=3, classes=tuple("abcdef")))
    fails(compose_train_cfg("data.val_size=0.1", "data.test_size=0.1", data_path=path), DataError,
          "Cannot split 18 reviews of 6 classes", "data.test_size")


# ---------------------------------------------------------------- impossible settings, caught before any data work


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("model.lr=-1e-3", "model.lr must be > 0"),
        ("model.lr=abc", "model.lr must be a number"),
        ("model.dropout=1.0", "model.dropout must be in [0, 1)"),
        ("model.dropout=-0.1", "model.dropout must be in [0, 1)"),
        ("model.gamma=-2", "model.gamma (focal loss) must be >= 0"),
        ("model.alpha=[1,-1]", "non-negative"),
        ("data.max_length=512", "data.max_length=512 is above"),
        ("data.val_size=0.6", "must each be in (0, 1) and sum to less than 1"),
        ("data.resampling.strategy=smote", "Unknown data.resampling.strategy 'smote'"),
        ("ckpt_path=/no/such.ckpt", "does not exist"),
    ],
)
def test_impossible_setting_fails_before_reading_data(compose_train_cfg, tmp_path, setting, fragment):
    """The data path does not exist: the setting's error coming first proves it is checked before any data work."""
    message = fails(compose_train_cfg(setting, "data.test_size=0.5", data_path=tmp_path / "absent.csv"),
                    ReviewClsError, fragment)
    assert "absent.csv" not in message


def test_alpha_of_the_wrong_length_fails_before_training(compose_train_cfg):
    fails(compose_train_cfg("model.alpha=[1.0,2.0]"), ConfigError, "model.alpha has 2 value(s) but there are 6 classes")


def test_unusable_trainer_setting_fails_before_training(compose_train_cfg):
    fails(compose_train_cfg("trainer.precision=17"), ConfigError, "trainer settings are not usable", "Precision '17'")


# ---------------------------------------------------------------- run folders and exit codes


def test_failed_run_folder_with_results_is_kept_and_marked(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "checkpoints" / "last.ckpt").write_bytes(b"weights")
    (run_dir / "train.log").write_text("log")
    settle_failed_run(run_dir, DataError("the reason"))
    assert (run_dir / "checkpoints" / "last.ckpt").read_bytes() == b"weights"
    assert "the reason" in (run_dir / ERROR_FILE).read_text()


def test_failed_run_never_removes_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / ".hydra").mkdir()
    monkeypatch.chdir(tmp_path)
    settle_failed_run(tmp_path, DataError("x"))
    assert (tmp_path / ".hydra").is_dir() and (tmp_path / ERROR_FILE).is_file()


def test_run_command_turns_project_errors_into_exit_2(capsys):
    def job(cfg):
        raise DataError("Data file 'x.csv' does not exist.")

    with pytest.raises(SystemExit) as caught:
        run_command(job, None)
    assert caught.value.code == 2
    assert "error: Data file 'x.csv' does not exist." in capsys.readouterr().err


def test_cli_exit_code_message_and_no_run_folder(tiny_bert_dir, tmp_path):
    """The real entry point: exit 2, a one-paragraph message naming the file, no traceback, no run folder left."""
    logs = tmp_path / "logs"
    result = subprocess.run(
        [sys.executable, "-m", "review_cls.train", f"model.pretrained={tiny_bert_dir}", f"paths.log_dir={logs}",
         f"data.path={tmp_path / 'missing.csv'}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "HYDRA_FULL_ERROR": "0"},
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "error: Data file" in result.stderr and "missing.csv" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(logs.glob("**/.hydra")), "the failed run left a run folder"


# ---------------------------------------------------------------- checkpoints (shared by evaluate / predict)


@pytest.fixture(scope="module")
def good_checkpoint(tiny_checkpoint) -> dict:
    return torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)


def test_truncated_checkpoint(tiny_checkpoint, tmp_path):
    cut = tmp_path / "cut.ckpt"
    data = tiny_checkpoint.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_classifier(cut)


@pytest.mark.parametrize("content", [b"", b"hello", bytes(range(256)) * 8])
def test_corrupt_checkpoint(tmp_path, content):
    path = tmp_path / "bad.ckpt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="bad.ckpt"):
        read_checkpoint(path)


@pytest.mark.parametrize(
    "payload",
    [
        {"state_dict": {"layer.weight": torch.zeros(2, 2)}, "hyper_parameters": {"hidden": 8}},  # another Lightning model
        {"bert.embeddings.word_embeddings.weight": torch.zeros(4, 4)},  # a bare Hugging Face state dict
        torch.zeros(3),
    ],
)
def test_checkpoint_of_an_unrelated_model(tmp_path, payload):
    path = tmp_path / "other.ckpt"
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="not a review_cls checkpoint"):
        read_checkpoint(path)


def test_checkpoint_whose_weights_do_not_fit_its_config(good_checkpoint, tmp_path):
    broken = dict(good_checkpoint, state_dict={k: v[..., :1] if v.ndim else v for k, v in good_checkpoint["state_dict"].items()})
    path = tmp_path / "mismatch.ckpt"
    torch.save(broken, path)
    with pytest.raises(CheckpointError, match="does not rebuild"):
        load_classifier(path)


def test_checkpoint_without_tokenizer(good_checkpoint, tmp_path):
    path = tmp_path / "no_tok.ckpt"
    torch.save({k: v for k, v in good_checkpoint.items() if k != "tokenizer_files"}, path)
    with pytest.raises(CheckpointError, match="carries no tokenizer"):
        load_classifier(path)


def test_ckpt_path_last_without_any_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoints/last.ckpt"):
        resolve_ckpt_path("last", tmp_path)


def test_split_file_that_is_not_json(tmp_path):
    from review_cls.data.prepare import load_split

    path = tmp_path / "split.json"
    path.write_text(json.dumps({"train": [1]})[:-3])
    with pytest.raises(DataError, match="Cannot use split file"):
        load_split(path)
