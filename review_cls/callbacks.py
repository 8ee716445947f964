"""Project callbacks that Lightning does not ship."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from review_cls.errors import TrainingDivergedError


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
    raise TrainingDivergedError(
        f"{what} at epoch {trainer.current_epoch}, step {trainer.global_step}. Training stopped; checkpoints "
        "written before this step are kept. Usual causes: a learning rate too high (lower model.lr, now "
        f"{pl_module.hparams.get('lr')}), fp16 overflow (use trainer.precision=bf16-mixed or 32-true), or broken "
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
