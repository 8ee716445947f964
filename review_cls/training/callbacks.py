"""Trainer add-ons that Lightning does not ship: callbacks (epoch seeding, NaN stop, resumable checkpoints, epoch
history, a weight average that the run's test reads) and the checkpoint writer a kill cannot corrupt."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd
import torch
from lightning.pytorch.callbacks import EMAWeightAveraging, ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.trainer.states import TrainerFn

from review_cls.errors import TrainingDivergedError
from review_cls.utils.atomic import atomic_file

HISTORY_CHECKPOINT_KEY = "epoch_history"
# what ModelCheckpoint updates when it ranks a new checkpoint, before writing it
RANKING_STATE = ("best_k_models", "kth_best_model_path", "kth_value", "best_model_path", "best_model_score",
                 "current_score")


class EpochSeed(L.Callback):
    """Reseed torch at every epoch start from (seed, epoch), so dropout noise of epoch k never depends on history.

    With the sampler also keyed on (seed, epoch), a run resumed from an epoch-end checkpoint replays exactly what
    an uninterrupted run would have done.

    Reseeded when the epoch's first batch starts, not in ``on_train_epoch_start``: a resumed run creates its
    dataloader iterator (which draws from the torch RNG) before that hook, an uninterrupted one after it.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: object, batch_idx: int) -> None:
        if batch_idx == 0:
            torch.manual_seed(self.seed * 1000 + trainer.current_epoch)


class FiniteLoss(L.Callback):
    """Stop at the first NaN/infinite training loss, naming the step: otherwise the run silently "finishes" on
    garbage weights, and a sweep ranks it as if it were a real result instead of recording it as failed.

    The loss is checked before the backward pass, so the optimizer never applies the broken step; the weights are
    checked again before each validation, so a checkpoint (``last.ckpt`` included) never stores NaN weights and the
    last good one is kept. (Lightning's EarlyStopping ``check_finite`` only watches the monitored validation metric.)
    """

    def on_before_backward(self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor) -> None:
        if not bool(torch.isfinite(loss.detach()).all()):
            _stop(trainer, pl_module, f"Training loss became {loss.detach().float().mean().item()}")

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.state.fn == "fit" and not all(bool(torch.isfinite(p).all()) for p in pl_module.parameters()):
            _stop(trainer, pl_module, "The model weights became NaN or infinite")


def _stop(trainer: L.Trainer, pl_module: L.LightningModule, what: str) -> None:
    lr = (pl_module.hparams.get("optimizer") or {}).get("lr")
    raise TrainingDivergedError(
        f"{what} at epoch {trainer.current_epoch}, step {trainer.global_step}. Training stopped; checkpoints "
        "written before this step are kept. Usual causes: a learning rate too high (lower model.lr, now "
        f"{lr}), fp16 overflow (use trainer.precision=bf16-mixed or 32-true), or broken "
        "input data. Fix it and rerun, or resume from the last good checkpoint with ckpt_path=...."
    )


class ResumableModelCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` that keeps ranking against the resumed run's best score, though it writes a new folder.

    Lightning restores only ``best_model_path`` when the checkpoint folder changed, so the first epoch after a
    resume became "best" however bad it was, and the final test used it. Files of the earlier run are never
    deleted: Lightning only removes checkpoints inside this callback's own folder. When the earlier best file is
    gone (its folder deleted or not copied along), Lightning's own behaviour is kept.
    """

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        best = state_dict.get("best_model_path")
        if best and not Path(best).is_file():
            super().load_state_dict(state_dict)
            return
        super().load_state_dict({**state_dict, "dirpath": self.dirpath})

    def _update_best_and_save(
        self, current: torch.Tensor, trainer: L.Trainer, monitor_candidates: dict[str, Any]
    ) -> None:
        """Lightning's ranking and save; stopped during the save (Ctrl+C), the ranking is put back as it was.

        Lightning names the new file best *before* writing it, and removes the earlier best only *after*: a
        Ctrl+C in between left ``best_model_path`` naming a file never written, so the run's test (and pretrain's
        folder) failed with FileNotFoundError, though the earlier best was still on disk.
        """
        ranking = {name: getattr(self, name) for name in RANKING_STATE}
        ranking["best_k_models"] = dict(self.best_k_models)
        try:
            super()._update_best_and_save(current, trainer, monitor_candidates)
        except BaseException:
            if self.best_model_path and not Path(self.best_model_path).is_file():
                for name, value in ranking.items():
                    setattr(self, name, value)
            raise


class EMAWeights(EMAWeightAveraging):
    """Lightning's moving average of the weights, with the run's test reading the average it validated and saved.

    Lightning's callback loads a checkpoint's training weights (``current_model_state``) whenever it has an average
    in memory, so ``trainer.test(ckpt_path=best)`` after a fit would score the raw weights while predict and export
    read the averaged ``state_dict``. Only resuming a fit needs the raw weights back."""

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        if trainer.state.fn == TrainerFn.FITTING:
            super().on_load_checkpoint(trainer, pl_module, checkpoint)


class EpochHistory(L.Callback):
    """One row per finished epoch with every epoch-level metric (``train/loss``, ``val/f1_macro``, per class...).

    Lightning runs plain callbacks' ``on_train_epoch_end`` *before* the module logs its epoch metrics there, so an
    epoch's row is taken once it is complete: when a checkpoint is saved at its end, when the next epoch starts, and
    when training ends. Rows travel in checkpoints, so a resumed run's history still starts at epoch 0.
    ``path`` (optional) gets the table rewritten after every epoch, so a crashed run keeps what it had.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else None
        self.rows: dict[int, dict[str, float]] = {}

    def frame(self) -> pd.DataFrame:
        """The history, one row per epoch (0-based, as in checkpoint names), ``epoch`` first."""
        if not self.rows:
            return pd.DataFrame(columns=["epoch"])
        frame = pd.DataFrame([{"epoch": epoch, **row} for epoch, row in sorted(self.rows.items())])
        return frame[["epoch", *sorted(column for column in frame.columns if column != "epoch")]]

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        # ModelCheckpoint saves after the module's on_train_epoch_end: the running epoch is complete here
        self._record(trainer, trainer.current_epoch)
        checkpoint[HISTORY_CHECKPOINT_KEY] = {str(epoch): row for epoch, row in self.rows.items()}

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        saved = {int(epoch): row for epoch, row in checkpoint.get(HISTORY_CHECKPOINT_KEY, {}).items()}
        self.rows = saved | self.rows

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._record(trainer, trainer.current_epoch - 1)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._record(trainer, trainer.current_epoch - 1)

    def _record(self, trainer: L.Trainer, epoch: int) -> None:
        """Store the epoch-level metrics now in ``callback_metrics`` (``*_step`` values skipped) as ``epoch``."""
        row = {
            name.removesuffix("_epoch"): float(value)
            for name, value in trainer.callback_metrics.items()
            if not name.endswith("_step") and getattr(value, "numel", lambda: 1)() == 1
        }
        if epoch < 0 or not row or trainer.sanity_checking:
            return
        self.rows[epoch] = row
        if self.path is not None and trainer.is_global_zero:
            with atomic_file(self.path) as temporary:
                self.frame().to_csv(temporary, index=False)


class AtomicCheckpointIO(TorchCheckpointIO):
    """``TorchCheckpointIO`` whose saves replace the target file in one rename (loading and removing unchanged):
    temp file in the same folder, fsync, then ``os.replace``.

    Lightning's own ``TorchCheckpointIO`` goes through fsspec, which writes to a temp file in the *system* temp folder
    and then moves it: when that folder is on another filesystem (a tmpfs ``/tmp``, a mounted run folder) the move is
    a copy, and a kill during it leaves a truncated ``last.ckpt`` in place of the previous good one.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} does not take storage_options.")
        with atomic_file(path) as temporary:
            with open(temporary, "wb") as handle:
                torch.save(checkpoint, handle)
                handle.flush()
                os.fsync(handle.fileno())
