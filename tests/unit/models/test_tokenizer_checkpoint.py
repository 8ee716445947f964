"""The tokenizer's files ride in every checkpoint: written on save, read back on load, through Lightning's hooks."""

from __future__ import annotations

import lightning as L
import torch

from review_cls.models.tokenizer_checkpoint import TokenizerInCheckpoint

FILES = {"vocab.txt": "[PAD]\n[UNK]\na\nb\n", "tokenizer_config.json": "{\"do_lower_case\": true}"}


class Module(TokenizerInCheckpoint, L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)


def test_the_files_are_written_into_the_checkpoint_and_read_back(tmp_path):
    saving = Module()
    saving.tokenizer_files = FILES
    checkpoint: dict = {"state_dict": saving.state_dict()}
    saving.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, tmp_path / "model.ckpt")

    loading = Module()
    loading.on_load_checkpoint(torch.load(tmp_path / "model.ckpt", weights_only=True))
    assert loading.tokenizer_files == FILES


def test_the_mixins_hooks_are_the_ones_lightning_calls():
    assert Module.on_save_checkpoint is TokenizerInCheckpoint.on_save_checkpoint
    assert Module.on_load_checkpoint is TokenizerInCheckpoint.on_load_checkpoint


def test_a_checkpoint_without_tokenizer_files_leaves_none():
    module = Module()
    module.tokenizer_files = FILES
    module.on_load_checkpoint({"state_dict": {}})
    assert module.tokenizer_files is None
