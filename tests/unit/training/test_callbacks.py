"""Trainer add-ons: epoch seeding, the NaN stop, the epoch history table, the atomic checkpoint writer."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from review_cls.errors import TrainingDivergedError
from review_cls.training.callbacks import AtomicCheckpointIO, EpochHistory, EpochSeed, FiniteLoss


def test_epoch_seed_reseeds_from_seed_and_epoch_at_the_first_batch_only():
    callback = EpochSeed(seed=3)
    trainer = SimpleNamespace(current_epoch=2)
    torch.manual_seed(123)
    callback.on_train_batch_start(trainer, None, None, batch_idx=0)
    drawn = torch.rand(3)
    torch.manual_seed(3 * 1000 + 2)
    assert torch.equal(drawn, torch.rand(3))
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    callback.on_train_batch_start(trainer, None, None, batch_idx=1)
    assert torch.equal(torch.rand(3), expected)


def test_finite_loss_stops_at_a_nan_loss_naming_epoch_step_and_learning_rate():
    trainer = SimpleNamespace(current_epoch=1, global_step=17)
    module = SimpleNamespace(hparams={"optimizer": {"lr": 0.5}})
    FiniteLoss().on_before_backward(trainer, module, torch.tensor(0.7))
    with pytest.raises(TrainingDivergedError, match=r"nan at epoch 1, step 17.*now 0.5"):
        FiniteLoss().on_before_backward(trainer, module, torch.tensor(float("nan")))


def test_epoch_history_records_epoch_metrics_without_step_values(tmp_path):
    history = EpochHistory(tmp_path / "history.csv")
    assert list(history.frame().columns) == ["epoch"]
    metrics = {"val/f1_macro": torch.tensor(0.5), "train/loss_epoch": torch.tensor(1.0),
               "train/loss_step": torch.tensor(9.0)}
    trainer = SimpleNamespace(callback_metrics=metrics, sanity_checking=False, is_global_zero=True)
    history._record(trainer, 0)
    frame = history.frame()
    assert frame.to_dict("records") == [{"epoch": 0, "train/loss": 1.0, "val/f1_macro": 0.5}]
    assert (tmp_path / "history.csv").read_text().splitlines()[0] == "epoch,train/loss,val/f1_macro"


def test_atomic_checkpoint_io_round_trips_and_refuses_storage_options(tmp_path):
    io = AtomicCheckpointIO()
    path = tmp_path / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(2)}}, path)
    assert torch.equal(io.load_checkpoint(path, weights_only=True)["state_dict"]["w"], torch.ones(2))
    with pytest.raises(TypeError, match="storage_options"):
        io.save_checkpoint({}, path, storage_options={"x": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]
