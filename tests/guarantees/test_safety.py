"""Safety: no remote code, safetensors where available, weights-only checkpoints, no pickles in what a run writes."""

from __future__ import annotations

import ast
import os
import zipfile

import numpy as np
import pytest
import torch

from review_cls.errors import CheckpointError
from review_cls.inference.checkpoints import load_classifier, read_checkpoint
from tests.helpers import REPO_ROOT

PACKAGE = REPO_ROOT / "review_cls"
PICKLE_WRITERS = {("pickle", "dump"), ("pickle", "dumps"), ("joblib", "dump"), ("dill", "dump"), ("cloudpickle", "dump")}


def calls(attribute: str):
    """Every ``<something>.<attribute>(...)`` call in the package, with where it is."""
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == attribute:
                yield f"{path.relative_to(REPO_ROOT)}:{node.lineno}", node


def keyword(node: ast.Call, name: str):
    """The constant value given for keyword ``name``, or ``"<missing>"``."""
    for item in node.keywords:
        if item.arg == name:
            return item.value.value if isinstance(item.value, ast.Constant) else "<not a constant>"
    return "<missing>"


def test_every_from_pretrained_call_refuses_remote_code():
    found = list(calls("from_pretrained"))
    assert len(found) >= 4, "the scan sees the package's loaders"
    offenders = [where for where, node in found if keyword(node, "trust_remote_code") is not False]
    assert not offenders, f"from_pretrained without trust_remote_code=False at {offenders}"


def test_nothing_in_the_package_enables_remote_code():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "trust_remote_code":
                assert isinstance(node.value, ast.Constant) and node.value.value is False, f"{path}:{node.value.lineno}"


def test_every_checkpoint_load_is_weights_only():
    found = list(calls("load")) + list(calls("load_from_checkpoint")) + list(calls("test")) + list(calls("validate"))
    loads = [(where, node) for where, node in found
             if node.func.attr != "load" or (isinstance(node.func.value, ast.Name) and node.func.value.id == "torch")]

    def loads_a_checkpoint(node: ast.Call) -> bool:
        """torch.load / load_from_checkpoint always; trainer.test / validate only when given a ckpt_path."""
        return node.func.attr in ("load", "load_from_checkpoint") or keyword(node, "ckpt_path") != "<missing>"

    offenders = [where for where, node in loads if loads_a_checkpoint(node) and keyword(node, "weights_only") is not True]
    assert not offenders, f"checkpoint loads without weights_only=True at {offenders}"


def test_the_package_writes_no_pickles():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                assert (node.func.value.id, node.func.attr) not in PICKLE_WRITERS, f"{path}:{node.lineno}"


def test_encoder_weights_load_as_safetensors_without_remote_code(tiny_bert_dir, monkeypatch):
    from transformers import AutoModelForSequenceClassification

    from review_cls.models import backbone

    assert list(tiny_bert_dir.glob("*.safetensors")), "the fixture ships safetensors"
    seen: dict = {}
    original = AutoModelForSequenceClassification.from_pretrained

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(AutoModelForSequenceClassification, "from_pretrained", spy)
    config = backbone.backbone_config(str(tiny_bert_dir), 2, {0: "a", 1: "b"}, None)
    backbone.build_classifier(config, str(tiny_bert_dir))
    assert seen["use_safetensors"] is True and seen["trust_remote_code"] is False


def test_a_real_run_writes_only_weights_only_checkpoints_and_no_pickles(tiny_checkpoint):
    run_dir = tiny_checkpoint.parent.parent
    checkpoints = sorted(run_dir.rglob("*.ckpt"))
    assert tiny_checkpoint in checkpoints
    for path in checkpoints:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
        assert {"state_dict", "hyper_parameters", "tokenizer_files"} <= loaded.keys()
    model, _ = load_classifier(tiny_checkpoint)
    assert model.labels
    for path in run_dir.rglob("*"):
        if not path.is_file() or path.suffix == ".ckpt":
            continue
        assert path.suffix not in (".pkl", ".pickle", ".joblib"), path
        head = path.read_bytes()[:2]
        assert not (head[:1] == b"\x80" and head[1:2] in b"\x02\x03\x04\x05"), f"{path} is a pickle"
        if path.suffix == ".npz":  # the TF-IDF pipeline: arrays only, every one readable without pickle
            with np.load(path, allow_pickle=False) as arrays:
                assert all(arrays[name].dtype != object for name in arrays.files), path
        elif zipfile.is_zipfile(path):  # torch.save archives hide a data.pkl: they must be weights-only loadable too
            torch.load(path, map_location="cpu", weights_only=True)


def test_a_checkpoint_with_a_pickled_object_is_refused_without_running_it(tiny_checkpoint, tmp_path):
    marker = tmp_path / "code_ran"

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    evil = tmp_path / "evil.ckpt"
    checkpoint = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    checkpoint["hyper_parameters"]["extra"] = Payload()
    torch.save(checkpoint, evil)
    with pytest.raises(CheckpointError, match="pickled Python objects"):
        read_checkpoint(evil)
    with pytest.raises(CheckpointError):
        load_classifier(evil)
    assert not marker.exists(), "loading ran code from the checkpoint"
