"""Per-epoch train/val metrics as a table (``history.csv``), recorded from ``trainer.callback_metrics``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd

from review_cls.atomic import atomic_file

CHECKPOINT_KEY = "epoch_history"


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
        checkpoint[CHECKPOINT_KEY] = {str(epoch): row for epoch, row in self.rows.items()}

    def on_load_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        saved = {int(epoch): row for epoch, row in checkpoint.get(CHECKPOINT_KEY, {}).items()}
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
