"""Test-only callbacks, added with ``+callbacks.NAME._target_=tests.guarantees.fault_hooks.CLASS``: put faults at exact steps."""

from __future__ import annotations

import time
from pathlib import Path

import lightning as L
import torch


class PauseAt(L.Callback):
    """At (epoch, batch) write ``marker`` and sleep, so a test can kill or interrupt the run at a known point.

    Sleeps at most ``limit_s`` and then fails loudly, so a test that never sends its signal cannot hang CI.
    """

    def __init__(self, epoch: int, batch: int, marker: str, limit_s: float = 900.0) -> None:
        self.epoch, self.batch, self.marker, self.limit_s = epoch, batch, Path(marker), limit_s

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch, batch_idx: int) -> None:
        if (trainer.current_epoch, batch_idx) != (self.epoch, self.batch):
            return
        self.marker.write_text(f"{trainer.current_epoch} {batch_idx} {trainer.global_step}")
        deadline = time.monotonic() + self.limit_s
        while time.monotonic() < deadline:
            if trainer.received_sigterm:  # Lightning's SIGTERM handler only sets this flag: let the loop see it
                return
            time.sleep(0.05)
        raise RuntimeError("PauseAt: nobody stopped the run")


class PoisonWeights(L.Callback):
    """Fill the classifier head with NaN at (epoch, batch): ``when=start`` makes that step's loss NaN, ``when=end``
    leaves a finite loss but NaN weights after the step (the case a per-step loss check alone would miss)."""

    def __init__(self, epoch: int, batch: int, when: str = "start") -> None:
        self.epoch, self.batch, self.when = epoch, batch, when

    def _poison(self, trainer: L.Trainer, pl_module: L.LightningModule, batch_idx: int, when: str) -> None:
        if when == self.when and (trainer.current_epoch, batch_idx) == (self.epoch, self.batch):
            with torch.no_grad():
                pl_module.model.classifier.weight.fill_(float("nan"))

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        self._poison(trainer, pl_module, batch_idx, "start")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        self._poison(trainer, pl_module, batch_idx, "end")


class InterruptBestSave(L.Callback):
    """Ctrl+C while the best checkpoint of ``epoch`` is being saved: Lightning has already named the new file best,
    nothing is written yet."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint) -> None:
        best = trainer.checkpoint_callback.best_model_path
        if trainer.current_epoch == self.epoch and best and not Path(best).exists():
            raise KeyboardInterrupt
