"""Checkpoint writing that a kill cannot corrupt: temp file in the same folder, fsync, then ``os.replace``.

Lightning's own ``TorchCheckpointIO`` goes through fsspec, which writes to a temp file in the *system* temp folder
and then moves it: when that folder is on another filesystem (a tmpfs ``/tmp``, a mounted run folder) the move is a
copy, and a kill during it leaves a truncated ``last.ckpt`` in place of the previous good one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from review_cls.atomic import atomic_file


class AtomicCheckpointIO(TorchCheckpointIO):
    """``TorchCheckpointIO`` whose saves replace the target file in one rename (loading and removing unchanged)."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} does not take storage_options.")
        with atomic_file(path) as temporary:
            with open(temporary, "wb") as handle:
                torch.save(checkpoint, handle)
                handle.flush()
                os.fsync(handle.fileno())
