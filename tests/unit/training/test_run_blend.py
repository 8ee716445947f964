"""The run's blend step: read from the run folder's four predictions tables, chosen on validation only, recorded in the
tested best checkpoint with plain values (weights-only load), and the setting checked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from review_cls.errors import ConfigError
from review_cls.models.blend import BlendRecord, fit_blend
from review_cls.models.tfidf_store import file_sha256
from review_cls.training.run_blend import (
    blend_best_checkpoint,
    blend_rule,
    forget_blend,
    read_run_predictions,
    why_no_blend,
)
from review_cls.training.tfidf_baseline import stage_metrics


@pytest.fixture
def run_copy(blended_checkpoint: Path, tmp_path: Path) -> Path:
    """A copy of the tiny run's folder, free to rewrite."""
    return Path(shutil.copytree(blended_checkpoint.parent.parent, tmp_path / "run"))


def test_the_four_tables_are_read_as_one_split_of_both_readers(run_copy):
    split = json.loads((run_copy / "split.json").read_text())
    for stage in ("val", "test"):
        read = read_run_predictions(run_copy, stage)
        assert len(read.texts) == len(split[stage]) and read.model.shape == read.tfidf.shape
        assert read.model.shape == (len(read.texts), len(read.labels))
        np.testing.assert_allclose(read.tfidf.sum(axis=1), 1.0, atol=1e-6)
        assert read.targets.min() >= 0 and read.targets.max() < len(read.labels)


def test_tables_of_different_reviews_are_refused(run_copy):
    table = run_copy / "baseline" / "test_predictions.csv"
    lines = table.read_text().splitlines()
    table.write_text("\n".join(lines[:-1]) + "\n")  # one review fewer
    with pytest.raises(ValueError, match="scored different test reviews or labels"):
        read_run_predictions(run_copy, "test")


def test_the_blend_is_chosen_on_validation_and_recorded_in_the_checkpoint(run_copy):
    best = next((run_copy / "checkpoints").glob("best-epoch*.ckpt"))
    metrics = json.loads((run_copy / "metrics.json").read_text())["metrics"]
    blended = blend_best_checkpoint("log_loss", run_copy, str(best), metrics)
    val, test = read_run_predictions(run_copy, "val"), read_run_predictions(run_copy, "test")
    expected = fit_blend(val.model, val.tfidf, val.targets, "log_loss")
    scores = {stage: stage_metrics(stage, split.labels, split.targets, expected.probabilities(split.model, split.tfidf))
              for stage, split in (("val", val), ("test", test))}
    assert blended == pytest.approx({"blend/weight": expected.weight, "blend/val_f1_macro": scores["val"]["val/f1_macro"],
                                     "blend/test_f1_macro": scores["test"]["test/f1_macro"]})
    record = BlendRecord.from_dict(torch.load(best, map_location="cpu", weights_only=True)["blend"], str(best))
    assert (record.blend.weight, record.blend.rule, record.blend.thresholds) == (expected.weight, "log_loss", None)
    assert record.tfidf_file == "baseline/tfidf.npz"
    assert record.tfidf_sha256 == file_sha256(run_copy / "baseline" / "tfidf.npz")
    assert record.test_f1_macro == pytest.approx({"model": metrics["test/f1_macro"],
                                                  "tfidf": metrics["baseline/test_f1_macro"],
                                                  "blend": blended["blend/test_f1_macro"]})


def test_a_record_this_run_did_not_write_is_dropped(run_copy):
    """A resumed run's copy of the resumed run's best checkpoint keeps that run's record until this run's own."""
    best = next((run_copy / "checkpoints").glob("best-epoch*.ckpt"))
    before = torch.load(best, map_location="cpu", weights_only=True)
    forget_blend(str(best))
    after = torch.load(best, map_location="cpu", weights_only=True)
    assert "blend" in before and "blend" not in after
    assert all(torch.equal(after["state_dict"][name], value) for name, value in before["state_dict"].items())


@pytest.mark.parametrize(("setting", "rule"), [({"rule": "f1"}, "f1"), ({"rule": "fixed"}, "fixed"), (None, None)])
def test_the_blend_setting_names_a_rule_or_is_null(setting, rule):
    assert blend_rule(OmegaConf.create({"blend": setting})) == rule


@pytest.mark.parametrize("setting", [{"rule": "best"}, {"rule": "f1", "weight": 0.5}, "f1", {}])
def test_a_blend_setting_that_names_no_rule_is_refused(setting):
    with pytest.raises(ConfigError, match=r"blend must be \{rule: f1 \| log_loss \| fixed\}"):
        blend_rule(OmegaConf.create({"blend": setting}))


@pytest.mark.parametrize(("changes", "best", "reason"), [
    ({}, "best.ckpt", None),
    ({"blend": None}, "best.ckpt", "blend=null"),
    ({"baseline": False}, "best.ckpt", "baseline=false: no TF-IDF baseline to blend with"),
    ({"test": False}, "best.ckpt", "test=false"),
    ({}, "", "no best checkpoint of this run to record it in"),
])
def test_a_run_says_why_it_has_no_blend(changes, best, reason):
    cfg = OmegaConf.create({"blend": {"rule": "f1"}, "baseline": True, "test": True} | changes)
    assert why_no_blend(cfg, best) == reason
