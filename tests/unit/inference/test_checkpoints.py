"""Opening checkpoints: corrupt, truncated, foreign and incomplete files are CheckpointErrors naming the file."""

from __future__ import annotations

import pytest
import torch

from review_cls.errors import CheckpointError
from review_cls.inference.checkpoints import load_classifier, read_checkpoint, resolve_ckpt_path


@pytest.fixture(scope="module")
def good_checkpoint(tiny_checkpoint) -> dict:
    return torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)


def test_truncated_checkpoint(tiny_checkpoint, tmp_path):
    cut = tmp_path / "cut.ckpt"
    data = tiny_checkpoint.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_classifier(cut)


@pytest.mark.parametrize("content", [b"", b"hello", bytes(range(256)) * 8])
def test_corrupt_checkpoint(tmp_path, content):
    path = tmp_path / "bad.ckpt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="bad.ckpt"):
        read_checkpoint(path)


@pytest.mark.parametrize(
    "payload",
    [
        {"state_dict": {"layer.weight": torch.zeros(2, 2)}, "hyper_parameters": {"hidden": 8}},  # another Lightning model
        {"bert.embeddings.word_embeddings.weight": torch.zeros(4, 4)},  # a bare Hugging Face state dict
        torch.zeros(3),
    ],
)
def test_checkpoint_of_an_unrelated_model(tmp_path, payload):
    path = tmp_path / "other.ckpt"
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="not a review_cls checkpoint"):
        read_checkpoint(path)


def test_checkpoint_whose_weights_do_not_fit_its_config(good_checkpoint, tmp_path):
    broken = dict(good_checkpoint, state_dict={k: v[..., :1] if v.ndim else v for k, v in good_checkpoint["state_dict"].items()})
    path = tmp_path / "mismatch.ckpt"
    torch.save(broken, path)
    with pytest.raises(CheckpointError, match="does not rebuild"):
        load_classifier(path)


def test_checkpoint_without_tokenizer(good_checkpoint, tmp_path):
    path = tmp_path / "no_tok.ckpt"
    torch.save({k: v for k, v in good_checkpoint.items() if k != "tokenizer_files"}, path)
    with pytest.raises(CheckpointError, match="carries no tokenizer"):
        load_classifier(path)


def test_ckpt_path_last_without_any_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoints/last.ckpt"):
        resolve_ckpt_path("last", tmp_path)
