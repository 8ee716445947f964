"""ONNX Runtime for CPU inference: ``model.onnx`` beside an export's Hugging Face files (dynamic batch and sequence
axes, optionally int8 dynamic quantization), and a predictor that runs it with the same length-sorted batches."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from review_cls.errors import CheckpointError, ConfigError
from review_cls.inference.export_folder import exported_metadata
from review_cls.inference.predictor import TokenizedPredictor
from review_cls.utils.hardware import AUTO

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

ONNX_FILE = "model.onnx"
INPUT_NAMES = ["input_ids", "attention_mask"]
QUANTIZE_CHOICES = ("int8",)
INSTALL_HINT = 'ONNX export and runtime=onnx need the onnx extra: pip install -e ".[onnx]"'


def check_quantize(quantize: str | None) -> None:
    if quantize is not None and quantize not in QUANTIZE_CHOICES:
        raise ConfigError(f"quantize={quantize} is not supported; use quantize=int8 or leave it null (float32).")


def export_onnx(model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, folder: Path,
                quantize: str | None = None) -> Path:
    """Write ``folder/model.onnx`` from ``model`` (input_ids, attention_mask -> logits); ``quantize=int8`` stores
    the weight MatMuls' weights as int8, one scale per output channel (onnxruntime dynamic quantization:
    activations are quantized per batch at run time), except the feed-forward down-projections.

    The embedding tables stay float32: a lookup costs next to nothing, and their int8 rounding alone moved labels
    (Google Play test macro-F1 0.7717 with int8 embeddings, 0.7789 without; PyTorch 0.7822; docs/benchmarks/onnx.md).
    """
    check_quantize(quantize)
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ConfigError(INSTALL_HINT) from exc
    # two rows of different lengths: batch and sequence sizes above 1, so the exporter keeps both axes symbolic
    sample = tokenizer(["a short review", "a somewhat longer review of the app"], padding=True, return_tensors="pt")
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    target = folder / ONNX_FILE
    float_path = folder / "model.float32.onnx" if quantize else target
    torch.onnx.export(
        model.eval(), (sample["input_ids"], sample["attention_mask"]), float_path, input_names=INPUT_NAMES,
        output_names=["logits"], dynamic_shapes={name: {0: batch, 1: sequence} for name in INPUT_NAMES},
        dynamo=True, optimize=True, external_data=False, verbose=False,
    )
    if quantize:
        quantize_dynamic(float_path, target, weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"], nodes_to_exclude=down_projections(float_path))
        float_path.unlink()
    return target


def down_projections(path: Path) -> list[str]:
    """The feed-forward output MatMuls (weight wider in than out, e.g. 1536 -> 384): kept in float32 by int8 export.

    Their inputs are GELU outputs with a few large values that one int8 scale per batch clips. Measured on 4,000
    Google Play reviews with the MiniLM classifier: labels identical to PyTorch 97.2% with every MatMul quantized
    per tensor, 98.9% per channel, 99.2% per channel with these six left in float32 (docs/benchmarks/onnx.md).
    """
    import onnx

    model = onnx.load(str(path))
    shapes = {weight.name: list(weight.dims) for weight in model.graph.initializer}
    wider_in = {name for name, dims in shapes.items() if len(dims) == 2 and dims[0] > dims[1]}
    return [node.name for node in model.graph.node if node.op_type == "MatMul" and node.input[1] in wider_in]


@dataclass(frozen=True, kw_only=True)
class OnnxPredictor(TokenizedPredictor):
    """A :class:`~review_cls.inference.predictor.Predictor` whose logits come from an onnxruntime CPU session."""

    session: InferenceSession = field(repr=False)

    def to(self, device: torch.device | str) -> OnnxPredictor:
        """ONNX inference here is CPU only: any other device is a config error."""
        if str(device) != AUTO and torch.device(device).type != "cpu":
            raise ConfigError(f"runtime=onnx runs on the CPU; got device={device}. Use device=cpu or runtime=torch.")
        return self

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        feed = {name: tensor.numpy().astype(np.int64) for name, tensor in zip(INPUT_NAMES, (input_ids, attention_mask))}
        return torch.from_numpy(self.session.run(["logits"], feed)[0])


def load_onnx_predictor(folder: str | Path, threads: int | None = None) -> OnnxPredictor:
    """An export folder's ``model.onnx`` in an onnxruntime CPU session using ``threads`` (default: torch's count,
    i.e. ``OMP_NUM_THREADS``), with the folder's tokenizer and labels."""
    folder = Path(folder).expanduser()
    if folder.is_file():
        export = folder.parent.parent / "export_onnx" if folder.parent.name == "checkpoints" else folder.with_suffix("")
        raise CheckpointError(
            f"runtime=onnx reads an export folder, and '{folder}' is a checkpoint file (a .ckpt cannot run under "
            f"ONNX Runtime directly). Export it first: `python -m review_cls.export ckpt_path={folder} "
            f"out={export} format=onnx`, then predict with `runtime=onnx ckpt_path={export}`."
        )
    if not (folder / ONNX_FILE).is_file():
        raise CheckpointError(
            f"runtime=onnx needs '{folder / ONNX_FILE}'. Export one with `python -m review_cls.export "
            f"ckpt_path=<best-*.ckpt of the run> out={folder} format=onnx`."
        )
    try:
        import onnxruntime
    except ImportError as exc:
        raise ConfigError(INSTALL_HINT) from exc
    metadata = exported_metadata(folder)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types on a damaged file
        raise CheckpointError(f"ONNX Runtime cannot load '{folder / ONNX_FILE}': {exc}") from exc
    return OnnxPredictor(*metadata, session=session)
