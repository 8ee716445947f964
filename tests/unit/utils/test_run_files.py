"""RunFolder: the run around a checkpoint, and files read as None when absent or damaged (never a traceback)."""

from __future__ import annotations

import json

from review_cls.utils.run_files import CHECKPOINTS, HYDRA_CONFIG, RUN_RECORD, SPLIT_JSON, RunFolder


def test_a_checkpoint_names_its_run_folder(tmp_path):
    ckpt = tmp_path / "run" / CHECKPOINTS / "best-epoch01.ckpt"
    assert RunFolder.of_checkpoint(ckpt).folder == (tmp_path / "run").resolve()


def test_files_are_read_by_kind_and_absent_or_damaged_ones_are_none(tmp_path):
    run = RunFolder(tmp_path)
    (tmp_path / ".hydra").mkdir()
    (tmp_path / HYDRA_CONFIG).write_text("seed: 7\n")
    (tmp_path / RUN_RECORD).write_text(json.dumps({"status": "ok", "metrics": {"test/f1_macro": 0.5}}))
    (tmp_path / SPLIT_JSON).write_text("{not json")
    assert run.read(HYDRA_CONFIG) == {"seed": 7}
    assert run.metrics() == {"test/f1_macro": 0.5}
    assert run.read(SPLIT_JSON) is None and run.read("missing.json") is None
    assert RunFolder(tmp_path / "elsewhere").metrics() == {}
