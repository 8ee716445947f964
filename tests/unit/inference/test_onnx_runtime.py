"""ONNX Runtime inference: export with dynamic axes (float32 and int8), a real onnxruntime session whose
probabilities match PyTorch's, and `predict runtime=onnx` writing the same outputs and insights as runtime=torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from review_cls.errors import CheckpointError, ConfigError
from review_cls.inference.checkpoints import load_classifier
from review_cls.inference.onnx_runtime import ONNX_FILE, down_projections, load_onnx_predictor
from review_cls.inference.prediction_files import insights_folder
from review_cls.inference.predictor import predict_probabilities
from review_cls.inference.export_folder import export_model
from review_cls.jobs.predict import run_prediction
from tests.helpers import CONF_DIR, REPO_ROOT

TEXTS = ["the app crashes on login", "late parcel", "refund please, the card payment failed twice and the courier "
         "never came so i want my money back", "love the dark mode", "bad " * 200]


@pytest.fixture(scope="module")
def onnx_folder(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m review_cls.export ... format=onnx``, run as a user would."""
    out = tmp_path_factory.mktemp("onnx") / "model"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run([sys.executable, "-m", "review_cls.export", f"ckpt_path={tiny_checkpoint}", f"out={out}",
                             "format=onnx"], cwd=out.parent, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def int8_folder(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_model(tiny_checkpoint, tmp_path_factory.mktemp("int8") / "model", export_format="onnx",
                        quantize="int8")


def torch_probabilities(tiny_checkpoint: Path, texts: list[str], batch_size: int) -> np.ndarray:
    model, tokenizer = load_classifier(tiny_checkpoint)
    return predict_probabilities(model, tokenizer, texts, model.hparams.max_length, batch_size)


def test_onnx_file_sits_beside_the_hf_files_with_dynamic_axes(onnx_folder):
    assert {"config.json", "model.safetensors", "tokenizer_config.json", "README.md", ONNX_FILE} <= {
        path.name for path in onnx_folder.iterdir()}
    graph = onnx.load(str(onnx_folder / ONNX_FILE)).graph
    for tensor in graph.input:
        dims = tensor.type.tensor_type.shape.dim
        assert [bool(dim.dim_param) for dim in dims] == [True, True], tensor.name  # symbolic batch and sequence
    assert [tensor.name for tensor in graph.input] == ["input_ids", "attention_mask"]


@pytest.mark.parametrize("batch_size", [1, 2, 64])
def test_float32_session_gives_pytorchs_probabilities(onnx_folder, tiny_checkpoint, batch_size):
    predictor = load_onnx_predictor(onnx_folder, threads=1)
    expected = torch_probabilities(tiny_checkpoint, TEXTS, batch_size)
    got = predictor.predict_probabilities(TEXTS, batch_size)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert got.argmax(axis=1).tolist() == expected.argmax(axis=1).tolist()
    assert predictor.labels == load_classifier(tiny_checkpoint)[0].labels


def test_int8_model_is_quantized_smaller_and_close(int8_folder, onnx_folder, tiny_checkpoint):
    graph = onnx.load(str(int8_folder / ONNX_FILE)).graph
    nodes = {node.name: node.op_type for node in graph.node}
    assert "MatMulInteger" in nodes.values() and "DynamicQuantizeLinear" in nodes.values()
    tables = {node.input[0] for node in graph.node if node.op_type == "Gather"}
    embeddings = [weight for weight in graph.initializer if weight.name in tables and len(weight.dims) == 2]
    assert embeddings and all(weight.data_type == onnx.TensorProto.FLOAT for weight in embeddings)
    kept = down_projections(onnx_folder / ONNX_FILE)
    assert len(kept) == 2 and {nodes[name] for name in kept} == {"MatMul"}  # one per layer stays float32
    assert not (int8_folder / "model.float32.onnx").exists()
    float_size, int8_size = (onnx_folder / ONNX_FILE).stat().st_size, (int8_folder / ONNX_FILE).stat().st_size
    assert int8_size < float_size
    got = load_onnx_predictor(int8_folder, threads=1).predict_probabilities(TEXTS, 2)
    assert np.abs(got - torch_probabilities(tiny_checkpoint, TEXTS, 2)).max() < 0.05
    assert np.allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_predict_runtime_onnx_writes_what_runtime_torch_writes(onnx_folder, small_reviews_csv, tmp_path):
    outputs = {}
    for runtime in ("torch", "onnx"):
        output = tmp_path / f"{runtime}.csv"
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
            cfg = compose(config_name="predict", overrides=[
                f"ckpt_path={onnx_folder}", f"input={small_reviews_csv}", f"output={output}", f"runtime={runtime}",
                "progress=false", "chunk_size=50", "batch_size=16"])
        summary = run_prediction(cfg)
        assert summary["rows"] == summary["predicted"] == 180
        assert (insights_folder(output) / "summary.md").is_file()
        outputs[runtime] = pd.read_csv(output)
    assert list(outputs["onnx"].columns) == list(outputs["torch"].columns)
    assert outputs["onnx"]["predicted_label"].tolist() == outputs["torch"]["predicted_label"].tolist()
    probabilities = [column for column in outputs["torch"] if column.startswith("prob_")]
    np.testing.assert_allclose(outputs["onnx"][probabilities], outputs["torch"][probabilities], atol=1e-5)


def test_runtime_onnx_needs_an_onnx_export(tiny_checkpoint, tmp_path):
    """A .ckpt gets the export command with a folder beside its run as out (never the .ckpt path itself)."""
    with pytest.raises(CheckpointError) as caught:
        load_onnx_predictor(tiny_checkpoint)
    export = tiny_checkpoint.parent.parent / "export_onnx"
    assert f"ckpt_path={tiny_checkpoint} out={export} format=onnx" in str(caught.value)
    assert f"runtime=onnx ckpt_path={export}" in str(caught.value)
    plain = export_model(tiny_checkpoint, tmp_path / "plain")
    with pytest.raises(CheckpointError, match=r"model\.onnx.*format=onnx"):
        load_onnx_predictor(plain)


def test_bad_onnx_settings_are_config_errors(tiny_checkpoint, tmp_path):
    with pytest.raises(ConfigError, match="quantize=int8 applies to ONNX exports only"):
        export_model(tiny_checkpoint, tmp_path / "a", quantize="int8")
    with pytest.raises(ConfigError, match="quantize=int4 is not supported"):
        export_model(tiny_checkpoint, tmp_path / "b", export_format="onnx", quantize="int4")
    with pytest.raises(ConfigError, match="format=tflite is not an export format"):
        export_model(tiny_checkpoint, tmp_path / "c", export_format="tflite")
    assert not any(tmp_path.iterdir())
