"""Opening checkpoints: corrupt, truncated, foreign and incomplete files are CheckpointErrors naming the file; one
written with flat hyperparameters still loads and predicts as it did."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from review_cls.errors import CheckpointError
from review_cls.inference.checkpoints import load_classifier, read_checkpoint, resolve_ckpt_path
from review_cls.inference.predictor import predict_probabilities
from tests.helpers import FLAT_HPARAMS


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


@pytest.mark.parametrize("name", ["single_label_last.ckpt", "multilabel_best.ckpt"])
def test_a_checkpoint_with_flat_hyperparameters_loads_and_predicts_as_it_did(name):
    """Written before the optimizer and loss settings became groups (tests/fixtures/flat_hparams/README.md)."""
    expected = json.loads((FLAT_HPARAMS / "expected.json").read_text())
    model, tokenizer = load_classifier(FLAT_HPARAMS / name)
    then = expected["checkpoints"][name]
    assert model.labels == then["labels"]
    probabilities = predict_probabilities(model, tokenizer, expected["texts"], model.hparams.max_length, 4, model.task)
    np.testing.assert_allclose(probabilities, then["probabilities"], rtol=0, atol=1e-6)
    saved = torch.load(FLAT_HPARAMS / name, map_location="cpu", weights_only=True)["hyper_parameters"]
    assert model.optimizer_settings.lr == saved["lr"] and model.hparams.loss["alpha"] == saved["alpha"]
    if model.task.multilabel:
        assert model.thresholds.tolist() == pytest.approx(saved["thresholds"])
        assert model.loss_fn.pos_weight.tolist() == pytest.approx(saved["alpha"])
    else:
        assert model.loss_fn.loss.gamma == saved["gamma"] == 2  # focal loss inside the logit adjustment
        assert model.loss_fn.offsets.tolist() == pytest.approx(saved["logit_offsets"])
