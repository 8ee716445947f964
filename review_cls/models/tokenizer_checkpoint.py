"""The tokenizer travels inside every checkpoint (as its files' text), so predict, export, evaluate and resume need
nothing but the ``.ckpt``: a character vocab built from the training data exists nowhere else."""

from __future__ import annotations

from typing import Any


class TokenizerInCheckpoint:
    """Mixin for a LightningModule: ``tokenizer_files`` (file name -> text, data/tokenizers.py) is written into every
    checkpoint and read back on load. List it before ``L.LightningModule`` so its hooks are the ones Lightning calls."""

    tokenizer_files: dict[str, str] | None = None

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["tokenizer_files"] = self.tokenizer_files

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.tokenizer_files = checkpoint.get("tokenizer_files")
