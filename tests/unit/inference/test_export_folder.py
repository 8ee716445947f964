"""Where ``review_cls.export`` may write: never over the checkpoint, the working directory or the user's own files,
and impossible format settings refused before the checkpoint is read."""

from __future__ import annotations

import pytest

from review_cls.errors import ConfigError
from review_cls.inference.export_folder import checked_out_folder, export_model


def test_a_new_or_empty_folder_is_returned_as_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert checked_out_folder("run/last.ckpt", "models/reviews", overwrite=False) == tmp_path / "models" / "reviews"
    assert checked_out_folder("run/last.ckpt", "empty", overwrite=False) == tmp_path / "empty"


def test_a_file_the_checkpoints_folder_or_the_working_directory_is_refused(tmp_path, monkeypatch):
    work = tmp_path / "work"
    (work / "run" / "checkpoints").mkdir(parents=True)
    checkpoint = work / "run" / "checkpoints" / "last.ckpt"
    checkpoint.write_bytes(b"ckpt")
    (work / "notes.txt").write_text("mine")
    monkeypatch.chdir(work)
    with pytest.raises(ConfigError, match="is a file"):
        checked_out_folder(checkpoint, "notes.txt", overwrite=True)
    for holder in ("run", "run/checkpoints"):
        with pytest.raises(ConfigError, match="holds the checkpoint being exported"):
            checked_out_folder(checkpoint, holder, overwrite=True)
    for here in (".", ".."):
        with pytest.raises(ConfigError, match="is the folder you run from"):
            checked_out_folder("/elsewhere/last.ckpt", here, overwrite=True)
    assert checkpoint.read_bytes() == b"ckpt"


def test_an_earlier_export_is_replaced_only_with_overwrite(tmp_path):
    out = tmp_path / "export"
    out.mkdir()
    for name in ("config.json", "model.safetensors", "README.md"):
        (out / name).write_text("{}")
    with pytest.raises(ConfigError, match="exists and is not empty; pick a new folder or pass overwrite=true"):
        checked_out_folder(tmp_path / "last.ckpt", out, overwrite=False)
    assert checked_out_folder(tmp_path / "last.ckpt", out, overwrite=True) == out.resolve()


def test_overwrite_refuses_a_folder_holding_files_export_did_not_write_and_names_them(tmp_path):
    out = tmp_path / "export"
    (out / "subfolder").mkdir(parents=True)
    (out / "config.json").write_text("{}")
    (out / "my_notes.md").write_text("keep me")
    with pytest.raises(ConfigError, match=r"holds files export did not write \(my_notes.md, subfolder\)"):
        checked_out_folder(tmp_path / "last.ckpt", out, overwrite=True)
    assert (out / "my_notes.md").read_text() == "keep me"


def test_an_unknown_format_or_quantizing_a_non_onnx_export_fails_before_the_checkpoint_is_read(tmp_path):
    missing = tmp_path / "no_such.ckpt"
    with pytest.raises(ConfigError, match="format=tflite is not an export format"):
        export_model(missing, tmp_path / "out", export_format="tflite")
    with pytest.raises(ConfigError, match="quantize=int8 applies to ONNX exports only; add format=onnx"):
        export_model(missing, tmp_path / "out", export_format="hf", quantize="int8")
    assert not (tmp_path / "out").exists()
