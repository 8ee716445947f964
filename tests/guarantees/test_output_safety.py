"""predict and export never delete what they did not write, and check every setting and output place first
(existing files and folders, temporary files left by an earlier run, Ctrl+C in predict)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from review_cls.cli import run_command
from review_cls.errors import CheckpointError, ConfigError, DataError
from review_cls.inference.checkpoints import read_checkpoint
from review_cls.inference.prediction_files import insights_folder
from review_cls.inference.predictor import TorchPredictor, load_predictor
from review_cls.inference.export_folder import export_model
from review_cls.jobs.predict import interrupted_note, run_prediction
from review_cls.reports.insights import INSIGHT_FILES
from review_cls.utils.atomic import atomic_file, remove_stale_temporaries
from review_cls.utils.hardware import resolve_device
from tests.helpers import CONF_DIR

MISSING_CKPT = "never-read.ckpt"  # a check that must come before the checkpoint is loaded fails before this


def predict_cfg(ckpt: Path | str, source: Path, output: Path, *overrides: str) -> DictConfig:
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose(config_name="predict", overrides=[f"ckpt_path={ckpt}", f"input={source}", f"output={output}",
                                                         "progress=false", *overrides])


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"review": ["late parcel", "app crashes", "great price"]}).to_csv(path, index=False)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


# ---------------------------------------------------------------- predict: output places (items 5, 6)


@pytest.mark.parametrize("foreign", ["notes.txt", "reviews.csv", "charts/old.png"])
def test_insights_folder_with_files_predict_did_not_write_is_refused(tmp_path, source, foreign):
    output = tmp_path / "out.csv"
    folder = insights_folder(output)
    (folder / foreign).parent.mkdir(parents=True)
    (folder / foreign).write_text("the user's")
    (folder / "summary.md").write_text("an earlier run's")
    before = snapshot(tmp_path)
    with pytest.raises(ConfigError, match=r"holds files predict did not write \((charts|notes.txt|reviews.csv)"):
        run_prediction(predict_cfg(tmp_path / MISSING_CKPT, source, output))
    assert snapshot(tmp_path) == before and not output.exists()


def test_insights_folder_of_an_earlier_run_is_replaced(tiny_checkpoint, tmp_path, source):
    output = tmp_path / "out.csv"
    folder = insights_folder(output)
    folder.mkdir()
    for name in INSIGHT_FILES:
        (folder / name).write_text("old")
    with pytest.raises(ConfigError, match=r"out_insights' exists \(an earlier run\?\); pass overwrite=true"):
        run_prediction(predict_cfg(tiny_checkpoint, source, output))
    assert all((folder / name).read_text() == "old" for name in INSIGHT_FILES)
    run_prediction(predict_cfg(tiny_checkpoint, source, output, "overwrite=true"))
    assert (folder / "summary.md").read_text() != "old" and not (folder / "weekly_counts.csv").exists()


def test_an_existing_output_is_replaced_only_with_overwrite(tmp_path, source):
    output = tmp_path / "out.csv"
    output.write_text("the user's earlier predictions")
    with pytest.raises(ConfigError, match=r"out.csv' exists \(an earlier run\?\); pass overwrite=true"):
        run_prediction(predict_cfg(tmp_path / MISSING_CKPT, source, output))
    assert output.read_text() == "the user's earlier predictions"


def test_insights_path_that_is_a_file_is_refused_before_predicting(tmp_path, source):
    output = tmp_path / "out.csv"
    insights_folder(output).write_text("a file of the user's")
    with pytest.raises(ConfigError, match=r"out_insights', where predict writes the insights .* is a file"):
        run_prediction(predict_cfg(tmp_path / MISSING_CKPT, source, output))
    assert insights_folder(output).read_text() == "a file of the user's" and not output.exists()


def test_output_that_is_a_folder_or_below_a_file_is_refused(tmp_path, source):
    (tmp_path / "taken").mkdir()
    with pytest.raises(ConfigError, match="is a folder; name a file in it"):
        run_prediction(predict_cfg(tmp_path / MISSING_CKPT, source, tmp_path / "taken"))
    with pytest.raises(ConfigError, match=r"reviews.csv' is a file, not a folder"):
        run_prediction(predict_cfg(tmp_path / MISSING_CKPT, source, source / "out.csv"))


def test_empty_input_names_the_input_setting(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="point input elsewhere"):
        run_prediction(predict_cfg(tmp_path / MISSING_CKPT, empty, tmp_path / "out.csv"))


# ---------------------------------------------------------------- predict: settings (items 7, 8)


@pytest.mark.parametrize(("override", "fragment"), [
    ("chunk_size=abc", "chunk_size must be a whole number >= 1, got 'abc'"),
    ("batch_size=2.5", "batch_size must be a whole number >= 1, got 2.5"),
    ("top_k=-1", "top_k must be a whole number >= 0"),
    ("insights=maybe", "insights must be true or false"),
    ("overwrite=yes please", "overwrite must be true or false"),
    ("text_column=5", "text_column must be a column name"),
    ("sheet_name=[1]", "sheet_name must be a sheet's name or number"),
    ("encoding=klingon", "encoding='klingon' is not an encoding"),
    ("sep=ab", "sep='ab' is not a delimiter"),
    ("device=gpu0", "device=gpu0 is not usable here. Use auto, cpu, or a CUDA GPU"),
    ("device=meta", "device=meta is not usable here"),
])
def test_every_predict_setting_is_checked_before_the_checkpoint_is_read(tmp_path, source, override, fragment):
    with pytest.raises(ConfigError) as caught:
        run_prediction(predict_cfg(tmp_path / MISSING_CKPT, source, tmp_path / "out.csv", override))
    assert fragment in str(caught.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_cuda_without_a_gpu_is_a_clear_error(device):
    with pytest.raises(ConfigError, match=rf"device={device} is not usable here.*no CUDA GPU on this machine"):
        resolve_device(device)


def test_valid_devices_still_resolve():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


# ---------------------------------------------------------------- predict: stale temporaries, Ctrl+C


def test_stale_temporaries_of_the_output_are_removed_and_only_those(tiny_checkpoint, tmp_path, source):
    output = tmp_path / "out.csv"
    stale = tmp_path / ".out.csv.0123456789ab.tmp"
    stale.write_text("half of an old run")
    kept = [tmp_path / ".out.csv.notes.tmp", tmp_path / ".other.csv.0123456789ab.tmp", tmp_path / "out.csv.tmp"]
    for path in kept:
        path.write_text("not predict's")
    run_prediction(predict_cfg(tiny_checkpoint, source, output))
    assert not stale.exists() and all(path.read_text() == "not predict's" for path in kept)


def test_a_temporary_still_being_written_is_not_stale(tmp_path):
    output = tmp_path / "out.csv"
    with atomic_file(output) as temporary:
        temporary.write_text("being written")
        assert remove_stale_temporaries(output) == [] and temporary.exists()
    stale = tmp_path / ".out.csv.ffffffffffff.tmp"
    stale.write_text("left by a killed run")
    handle = os.open(stale, os.O_RDONLY)  # a reader without the lock does not keep it alive
    try:
        assert remove_stale_temporaries(output) == [stale]
    finally:
        os.close(handle)


def test_ctrl_c_in_predict_is_one_line_and_exit_130(tiny_checkpoint, tmp_path, source, monkeypatch, capsys):
    output = tmp_path / "out.csv"
    output.write_text("earlier predictions")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(TorchPredictor, "predict_probabilities", interrupted)
    with pytest.raises(SystemExit) as caught:  # as the predict command starts it
        run_command(run_prediction, predict_cfg(tiny_checkpoint, source, output, "overwrite=true"),
                    interrupted=interrupted_note)
    assert caught.value.code == 130
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: predict stopped (Ctrl+C)")
    assert output.read_text() == "earlier predictions"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.csv", "reviews.csv"]


# ---------------------------------------------------------------- checkpoints


def edited_checkpoint(tiny_checkpoint: Path, tmp_path: Path, labels) -> Path:
    checkpoint = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    checkpoint["hyper_parameters"]["labels"] = labels(checkpoint["hyper_parameters"]["labels"])
    path = tmp_path / "edited.ckpt"
    torch.save(checkpoint, path)
    return path


def test_labels_shorter_than_the_classifier_are_refused_at_load(tiny_checkpoint, tmp_path):
    path = edited_checkpoint(tiny_checkpoint, tmp_path, lambda labels: labels[:-1])
    with pytest.raises(CheckpointError, match=r"labels and classifier disagree: 5 label\(s\) .* for 6 classifier"):
        load_predictor(path)


def test_duplicate_label_names_are_refused(tiny_checkpoint, tmp_path):
    path = edited_checkpoint(tiny_checkpoint, tmp_path, lambda labels: [labels[0], *labels[:-1]])
    with pytest.raises(CheckpointError, match=r"names several classifier outputs \['"):
        read_checkpoint(path)


def test_duplicate_labels_in_an_exported_folder_are_refused(tiny_checkpoint, tmp_path):
    import json

    out = export_model(tiny_checkpoint, tmp_path / "model")
    config = json.loads((out / "config.json").read_text())
    config["id2label"]["1"] = config["id2label"]["0"]
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="names several classifier outputs"):
        load_predictor(out)


# ---------------------------------------------------------------- export


@pytest.mark.parametrize("where", ["run", "run/checkpoints"])
def test_export_never_deletes_its_checkpoint(tiny_checkpoint, tmp_path, where):
    run = tmp_path / "run"
    shutil.copytree(tiny_checkpoint.parent.parent, run)
    checkpoint = run / "checkpoints" / tiny_checkpoint.name
    before = snapshot(run)
    with pytest.raises(ConfigError, match="holds the checkpoint being exported"):
        export_model(checkpoint, tmp_path / where, overwrite=True)
    assert snapshot(run) == before


def test_export_out_dot_is_the_working_directory(tiny_checkpoint, tmp_path, monkeypatch):
    here = tmp_path / "work" / "inner"
    here.mkdir(parents=True)
    monkeypatch.chdir(here)
    (here / "mine.txt").write_text("the user's")
    for out in (".", ".."):
        with pytest.raises(ConfigError, match=rf"out='{re.escape(out)}' is the folder you run from"):
            export_model(tiny_checkpoint, out, overwrite=True)
    assert (here / "mine.txt").read_text() == "the user's"


def test_export_into_a_new_subfolder_of_the_working_directory(tiny_checkpoint, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert export_model(tiny_checkpoint, "model") == tmp_path / "model"
    assert (tmp_path / "model" / "config.json").is_file()



@pytest.mark.parametrize("key", ["run", "sweep"])
def test_runs_started_in_the_same_second_get_folders_of_their_own_named_in_start_order(key):
    import datetime

    import yaml

    from tests.helpers import CONF_DIR

    folder = yaml.safe_load((CONF_DIR / "hydra" / "default.yaml").read_text())[key]["dir"]
    pattern = re.fullmatch(r".*\$\{now:([^}]+)\}", folder).group(1)
    starts = [datetime.datetime(2026, 1, 1, 9, 30, 15, microsecond) for microsecond in (0, 1, 999_999)]
    names = [start.strftime(pattern) for start in starts]
    assert len(set(names)) == 3 and sorted(names) == names, names
    assert datetime.datetime(2026, 1, 1, 9, 30, 16).strftime(pattern) > names[-1]  # the next second sorts after
