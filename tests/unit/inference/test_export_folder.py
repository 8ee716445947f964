"""Where ``review_cls.export`` may write: never over the checkpoint, the working directory or the user's own files,
and impossible format settings refused before the checkpoint is read; an export's config.json read back checked."""

from __future__ import annotations

import pytest
from transformers import BertConfig

from review_cls.errors import CheckpointError, ConfigError
from review_cls.inference.export_folder import THRESHOLDS_KEY, checked_out_folder, export_model, exported_task


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


LABELS = ["bug", "price"]
MULTI = {"problem_type": "multi_label_classification", THRESHOLDS_KEY: {"bug": 0.4, "price": 0.6}}


def test_an_export_config_gives_its_task_and_thresholds_in_label_order(tmp_path):
    task, thresholds = exported_task(BertConfig(**MULTI), ["price", "bug"], tmp_path / "config.json")
    assert task.multilabel and thresholds.tolist() == pytest.approx([0.6, 0.4])
    task, thresholds = exported_task(BertConfig(problem_type="single_label_classification"), LABELS, tmp_path)
    assert not task.multilabel and thresholds is None
    task, thresholds = exported_task(BertConfig(), LABELS, tmp_path)  # written before multi-label models
    assert not task.multilabel and thresholds is None


@pytest.mark.parametrize("edit, fragment", [
    ({"problem_type": None}, "has no problem_type, but per-label thresholds"),
    ({THRESHOLDS_KEY: None}, "multi-label model's config without its per-label thresholds"),
    ({THRESHOLDS_KEY: {"bug": 0.4}}, "has no threshold for label(s) 'price'"),
    ({THRESHOLDS_KEY: {"bug": 0.4, "price": "high"}}, "not numbers in [0, 1] in label_thresholds: 'price': 'high'"),
    ({THRESHOLDS_KEY: {"bug": 0.4, "price": 7}}, "'price': 7"),
    ({"problem_type": "single_label_classification"}, "only a multi-label model has"),
])
def test_an_export_config_edited_by_hand_is_refused_naming_it(tmp_path, edit, fragment):
    config = BertConfig(**{**MULTI, **edit})
    if edit.get(THRESHOLDS_KEY, "") is None:
        delattr(config, THRESHOLDS_KEY)
    with pytest.raises(CheckpointError) as caught:
        exported_task(config, LABELS, tmp_path / "config.json")
    assert fragment in str(caught.value) and "config.json" in str(caught.value)
    assert "export the checkpoint again" in str(caught.value)
