"""Project callbacks that Lightning does not ship."""

from __future__ import annotations

import lightning as L
import torch


class EpochSeed(L.Callback):
    """Reseed torch at every epoch start from (seed, epoch), so dropout noise of epoch k never depends on history.

    With the sampler also keyed on (seed, epoch), a run resumed from an epoch-end checkpoint replays exactly what
    an uninterrupted run would have done.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        torch.manual_seed(self.seed * 1000 + trainer.current_epoch)
