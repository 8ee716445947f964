"""The run folder: the run around a checkpoint, files read as None when absent or damaged (never a traceback), and
the run record metrics.json: what it holds, the best checkpoint's score, class support by label and the
finite-or-None value a sweeper gets back."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import torch

from review_cls.utils.run_folder import (
    CHECKPOINTS,
    FAILED,
    HYDRA_CONFIG,
    OK,
    RUN_RECORD,
    SPLIT_JSON,
    RunFolder,
    best_checkpoint_score,
    class_support,
    finite_or_none,
    hydra_overrides,
    is_multirun,
    write_run_record,
)


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


def test_the_record_holds_status_metrics_as_floats_and_test_support(tmp_path):
    path = write_run_record(tmp_path, {"val/f1_macro": torch.tensor(0.75), "test/f1_macro": np.float32(0.5)},
                            "val/f1_macro_best", test_support={"bug": 12, "price": 3})
    assert path == tmp_path / "metrics.json"
    record = json.loads(path.read_text())
    assert record == {
        "status": OK, "error": None, "optimized_metric": "val/f1_macro_best", "overrides": [],
        "metrics": {"val/f1_macro": 0.75, "test/f1_macro": 0.5}, "test_support": {"bug": 12, "price": 3},
    }


def test_a_failed_run_is_recorded_with_its_error_and_no_support(tmp_path):
    write_run_record(tmp_path, {}, "val/f1_macro", status=FAILED, error="ValueError: NaN loss")
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert (record["status"], record["error"], record["test_support"]) == ("failed", "ValueError: NaN loss", {})


def test_outside_hydra_there_are_no_overrides_and_no_multirun():
    assert hydra_overrides() == []
    assert is_multirun() is False


def test_best_checkpoint_score_is_named_after_the_monitor_and_empty_without_one():
    callback = SimpleNamespace(monitor="val/f1_macro", best_model_score=torch.tensor(0.625))
    assert best_checkpoint_score(SimpleNamespace(checkpoint_callback=callback)) == {"val/f1_macro_best": 0.625}
    assert best_checkpoint_score(SimpleNamespace(checkpoint_callback=None)) == {}
    unmonitored = SimpleNamespace(monitor=None, best_model_score=None)
    assert best_checkpoint_score(SimpleNamespace(checkpoint_callback=unmonitored)) == {}
    not_yet = SimpleNamespace(monitor="val/f1_macro", best_model_score=None)
    assert best_checkpoint_score(SimpleNamespace(checkpoint_callback=not_yet)) == {}


def test_class_support_is_sorted_by_label_with_plain_ints_and_non_finite_values_become_none():
    support = class_support({"price": np.int64(3), "bug": np.int64(12)})
    assert list(support) == ["bug", "price"] and all(type(count) is int for count in support.values())
    assert finite_or_none(0.5) == 0.5
    assert finite_or_none(math.nan) is None and finite_or_none(math.inf) is None and finite_or_none(None) is None
