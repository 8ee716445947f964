"""The one face every command predicts through (:class:`Predictor`), the PyTorch predictor, and the one loader
(:func:`load_predictor`): what a training checkpoint, an exported model folder, or that folder's ONNX model ships (the
model blended with its TF-IDF baseline when it records a blend), ready on a device. Batched class probabilities for
raw texts: tokenize once, sort by length, pad per batch, no gradients."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from transformers import DataCollatorWithPadding, PreTrainedTokenizerBase

from review_cls.data.batching import tokenize_texts
from review_cls.errors import CheckpointError, ConfigError
from review_cls.inference.checkpoints import classifier_of, read_checkpoint
from review_cls.inference.export_folder import exported_metadata
from review_cls.models.pooling import apply_classifier_pooling
from review_cls.models.task import SINGLE_LABEL, Task
from review_cls.utils.hardware import AUTO, resolve_device

RUNTIMES = ("torch", "onnx")


@runtime_checkable
class Predictor(Protocol):
    """Class probabilities for raw texts, and what turns them into labels: the label of each column, the task
    (single- or multi-label) and, multi-label, each label's threshold. The PyTorch and ONNX predictors implement it
    over a tokenizer; a predictor that wraps another (e.g. blending in a TF-IDF model's probabilities) implements it
    by delegating; callers (predict, evaluate, select, a serving or batch worker) name only this."""

    @property
    def labels(self) -> list[str]: ...

    @property
    def task(self) -> Task: ...

    @property
    def thresholds(self) -> np.ndarray | None:
        """One per label for a multi-label model (a label is predicted at or above it); ``None`` single-label."""

    @property
    def max_length(self) -> int:
        """The truncation length in tokens: longer texts are cut where training cut them."""

    def predict_probabilities(self, texts: list[str], batch_size: int) -> np.ndarray:
        """N x len(labels) float32 probabilities in the order of ``texts``: softmax rows (single-label) or one
        sigmoid per label (multi-label)."""

    def to(self, device: torch.device | str) -> Predictor:
        """Run on ``device`` (``auto``: the first GPU when there is one, else the CPU); returns the predictor."""


@dataclass(frozen=True)
class TokenizedPredictor(ABC):
    """A :class:`Predictor` that tokenizes the texts itself and turns each padded batch into logits: the fields and
    the batch loop the PyTorch and ONNX Runtime predictors share; each adds its model and :meth:`logits`."""

    tokenizer: PreTrainedTokenizerBase
    labels: list[str]
    max_length: int
    task: Task = SINGLE_LABEL
    thresholds: np.ndarray | None = None

    @abstractmethod
    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The logits of one padded batch (CPU tensors in)."""

    @abstractmethod
    def to(self, device: torch.device | str) -> TokenizedPredictor: ...

    def predict_probabilities(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Class probabilities (N x C, float32) in the order of ``texts``, truncated as in training."""
        return length_sorted_probabilities(self.logits, self.tokenizer, texts, self.max_length, batch_size, self.task)


@dataclass(frozen=True, kw_only=True)
class TorchPredictor(TokenizedPredictor):
    """A PyTorch model mapping (input_ids, attention_mask) to logits, as :class:`ReviewClassifier` does."""

    model: torch.nn.Module = field(repr=False)

    def to(self, device: torch.device | str) -> TorchPredictor:
        """Move the model to ``device`` (in place); returns the predictor for chaining."""
        self.model.to(resolve_device(str(device)))
        return self

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return logits_on_model_device(self.model, input_ids, attention_mask)


def logits_on_model_device(model: torch.nn.Module, input_ids: torch.Tensor,
                           attention_mask: torch.Tensor) -> torch.Tensor:
    device = next(model.parameters()).device
    return model(input_ids.to(device), attention_mask.to(device))


def predict_probabilities(
    model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int, batch_size: int,
    task: Task = SINGLE_LABEL,
) -> np.ndarray:
    """Class probabilities (N x C, float32) in the order of ``texts`` from a model mapping (input_ids,
    attention_mask) to logits, as :class:`ReviewClassifier` does (training's own reports score with it)."""
    return length_sorted_probabilities(lambda ids, mask: logits_on_model_device(model, ids, mask), tokenizer, texts,
                                       max_length, batch_size, task)


@torch.inference_mode()
def length_sorted_probabilities(
    logits_of: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], tokenizer: PreTrainedTokenizerBase,
    texts: list[str], max_length: int, batch_size: int, task: Task = SINGLE_LABEL,
) -> np.ndarray:
    """Softmax (multi-label: sigmoid) of ``logits_of(input_ids, attention_mask)`` over batches of ``texts``, in the
    order of ``texts``.

    Texts are run shortest first so each batch pads only to its own longest review; results are scattered back.
    Any runtime (PyTorch, ONNX Runtime) that maps the padded batch to logits shares this loop.
    """
    input_ids = tokenize_texts(tokenizer, texts, max_length)
    order = np.argsort(input_ids.lengths, kind="stable")
    collator = DataCollatorWithPadding(tokenizer, padding="longest")
    probabilities: np.ndarray | None = None
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        batch = collator([{"input_ids": input_ids[i]} for i in rows])
        chunk = task.probabilities(logits_of(batch["input_ids"], batch["attention_mask"])).cpu().numpy()
        if probabilities is None:
            probabilities = np.empty((len(texts), chunk.shape[1]), dtype=np.float32)
        probabilities[rows] = chunk
    return probabilities if probabilities is not None else np.empty((0, 0), dtype=np.float32)


class LogitsOnly(torch.nn.Module):
    """Wrap a transformers sequence classifier so it is called like :class:`ReviewClassifier` (returns logits)."""

    def __init__(self, classifier: torch.nn.Module) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.classifier(input_ids=input_ids, attention_mask=attention_mask).logits


def check_runtime(runtime: str) -> None:
    if runtime not in RUNTIMES:
        raise ConfigError(f"runtime={runtime} is not a runtime; use runtime=torch or runtime=onnx.")


def load_predictor(path: str | Path, runtime: str = "torch", device: torch.device | str = AUTO,
                   blend: bool = True) -> Predictor:
    """What ``path`` ships, ready for inference (eval mode) on ``device``: with ``runtime=torch`` a ``.ckpt`` from
    ``review_cls.train`` or a folder from ``review_cls.export``; with ``runtime=onnx`` the ``model.onnx`` of a folder
    exported with ``format=onnx`` (CPU only). With ``blend`` (the default) the model blended with its TF-IDF
    baseline when the checkpoint or export records a blend (inference/blended_predictor.py), else the model alone,
    said once in the log; ``blend=False``: the model alone, always."""
    from review_cls.inference.blended_predictor import checkpoint_blend, exported_blend

    check_runtime(runtime)
    path = Path(path).expanduser()
    if runtime == "torch" and not path.is_dir():
        checkpoint = read_checkpoint(path)
        model = checkpoint_predictor(checkpoint, path)
        return (checkpoint_blend(model, checkpoint, path) if blend else model).to(device)
    if runtime == "onnx":
        from review_cls.inference.onnx_runtime import load_onnx_predictor  # onnxruntime is an optional extra

        model = load_onnx_predictor(path)
    else:
        model = load_exported(path)
    return (exported_blend(model, path) if blend else model).to(device)


def checkpoint_predictor(checkpoint: dict[str, Any], path: Path) -> TorchPredictor:
    """The model of a checkpoint read by :func:`read_checkpoint` (weights-only), on the CPU."""
    model, tokenizer = classifier_of(checkpoint, path)
    thresholds = None if model.thresholds is None else model.thresholds.numpy().copy()
    return TorchPredictor(tokenizer, list(model.labels), int(model.hparams.max_length), model.task, thresholds,
                          model=model)


def load_exported(folder: Path) -> TorchPredictor:
    """An exported Hugging Face folder on the CPU: safetensors weights only, no remote code."""
    from transformers import AutoModelForSequenceClassification

    metadata = exported_metadata(folder)
    try:
        classifier = AutoModelForSequenceClassification.from_pretrained(
            folder, trust_remote_code=False, use_safetensors=True
        )
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"Cannot load the exported model in '{folder}': {exc}") from exc
    return TorchPredictor(*metadata, model=LogitsOnly(apply_classifier_pooling(classifier)).eval())
