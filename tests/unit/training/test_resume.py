"""Resume refuses a checkpoint that does not fit: other labels (by name), other weights, a pickle, another
command's ``last.ckpt``, no epochs left before ``max_epochs``; the refused run leaves no folder. A ``last.ckpt``
written with flat hyperparameters resumes."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch

from review_cls.errors import CheckpointError
from review_cls.inference.checkpoints import resolve_ckpt_path
from tests.helpers import FLAT_HPARAMS, fails, tiny_train_cfg, write_csv


def test_renamed_label_with_the_same_count_is_refused_by_name(compose_train_cfg, tiny_checkpoint, small_reviews_csv,
                                                               tmp_path):
    frame = pd.read_csv(small_reviews_csv)
    renamed = sorted(frame["category"].unique())[-1]
    frame["category"] = frame["category"].replace(renamed, "design")
    data = write_csv(tmp_path / "renamed.csv", frame)
    fails(compose_train_cfg(f"ckpt_path={tiny_checkpoint}", data_path=data), CheckpointError,
          "was trained on labels", "'design'", renamed)


def test_fewer_labels_are_refused(compose_train_cfg, tiny_checkpoint, small_reviews_csv, tmp_path):
    frame = pd.read_csv(small_reviews_csv)
    dropped = write_csv(tmp_path / "fewer.csv", frame[frame["category"] != frame["category"].iloc[0]])
    fails(compose_train_cfg(f"ckpt_path={tiny_checkpoint}", data_path=dropped), CheckpointError,
          "was trained on labels")


def test_max_epochs_already_reached_is_refused_instead_of_training_nothing(compose_train_cfg, tiny_checkpoint):
    """The checkpoint has 1 epoch trained: max_epochs=1 would train nothing and test the old best as a new run."""
    fails(compose_train_cfg(f"ckpt_path={tiny_checkpoint}", "trainer.max_epochs=1"), CheckpointError,
          "has 1 epoch(s) trained and trainer.max_epochs=1", "above 1")


def test_weights_of_another_model_are_refused_before_fit(compose_train_cfg, tiny_checkpoint, tmp_path):
    checkpoint = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    state = checkpoint["state_dict"]
    name = next(key for key, value in state.items() if value.ndim == 2)
    state[name] = torch.zeros(3, 3)
    state.pop(next(key for key in state if key != name))
    other = tmp_path / "other.ckpt"
    torch.save(checkpoint, other)
    message = fails(compose_train_cfg(f"ckpt_path={other}"), CheckpointError, "does not fit this model",
                    "1 weights missing", "of another shape", name)
    assert "(3, 3)" in message


def test_a_pickled_checkpoint_is_refused_like_predict_refuses_it(compose_train_cfg, tmp_path):
    pickled = tmp_path / "pickled.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": argparse.Namespace(labels=["a"])}, pickled)
    message = fails(compose_train_cfg(f"ckpt_path={pickled}"), CheckpointError, "holds pickled Python objects")
    assert "weights_only=False" not in message


def _run_with_last(root: Path, name: str, task: str, mtime: int) -> Path:
    (root / name / ".hydra").mkdir(parents=True)
    (root / name / ".hydra" / "config.yaml").write_text(f"task_name: {task}\n")
    last = root / name / "checkpoints" / "last.ckpt"
    last.parent.mkdir()
    last.write_bytes(b"")
    import os

    os.utime(last, (mtime, mtime))
    return last


def test_last_takes_the_newest_checkpoint_of_the_same_command(tmp_path):
    trained = _run_with_last(tmp_path, "train_run", "train", 1_000)
    pretrained = _run_with_last(tmp_path, "pretrain_run", "pretrain", 2_000)
    assert resolve_ckpt_path("last", tmp_path, "train") == str(trained)
    assert resolve_ckpt_path("last", tmp_path, "pretrain") == str(pretrained)
    with pytest.raises(CheckpointError, match="no checkpoints/last.ckpt of a baseline run"):
        resolve_ckpt_path("last", tmp_path, "baseline")


def test_a_last_checkpoint_with_flat_hyperparameters_resumes(tiny_bert_dir, small_reviews_csv, tmp_path):
    """Written before the optimizer and loss settings became groups (tests/fixtures/flat_hparams/README.md), with
    these model settings: its second epoch trains on from it, and the run's checkpoints hold today's groups."""
    from review_cls.jobs.train import run_training

    old = shutil.copy(FLAT_HPARAMS / "single_label_last.ckpt", tmp_path / "last.ckpt")
    run_training(tiny_train_cfg(tiny_bert_dir, small_reviews_csv, tmp_path / "run", f"ckpt_path={old}",
                                "trainer.max_epochs=2", "model.gamma=2", "model.alpha=auto",
                                "model.logit_adjustment=0.5", "baseline=false"))
    before = torch.load(old, map_location="cpu", weights_only=True)
    after = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert (after["epoch"], after["global_step"]) == (1, 2 * before["global_step"])
    assert after["epoch_history"]["0"] == before["epoch_history"]["0"]  # epoch 0 is the checkpoint's, not retrained
    assert after["hyper_parameters"]["optimizer"]["lr"] == before["hyper_parameters"]["lr"]
    offsets = before["hyper_parameters"]["logit_offsets"]
    assert after["hyper_parameters"]["loss"]["logit_offsets"] == pytest.approx(offsets)
