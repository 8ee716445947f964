"""A trained model ready for inference: one loader for a training checkpoint or an exported model folder, and
batched class probabilities for raw texts (tokenize once, sort by length, pad per batch, no gradients)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import DataCollatorWithPadding, PreTrainedTokenizerBase

from review_cls.data.batching import tokenize_texts
from review_cls.errors import CheckpointError
from review_cls.inference.checkpoints import check_labels, load_classifier
from review_cls.inference.export_folder import exported_task
from review_cls.models.pooling import apply_classifier_pooling
from review_cls.models.task import SINGLE_LABEL, Task


@dataclass(frozen=True)
class Predictor:
    """A model mapping (input_ids, attention_mask) to logits, its tokenizer, label names by id, truncation length;
    multi-label models also carry their task and per-label thresholds."""

    model: torch.nn.Module
    tokenizer: PreTrainedTokenizerBase
    labels: list[str]
    max_length: int
    task: Task = SINGLE_LABEL
    thresholds: np.ndarray | None = None

    def to(self, device: torch.device | str) -> Predictor:
        """Move the model to ``device`` (in place); returns the predictor for chaining."""
        self.model.to(device)
        return self

    def predict_probabilities(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Class probabilities (N x C, float32) in the order of ``texts``, truncated as in training."""
        return predict_probabilities(self.model, self.tokenizer, texts, self.max_length, batch_size, self.task)


@torch.inference_mode()
def predict_probabilities(
    model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int, batch_size: int,
    task: Task = SINGLE_LABEL,
) -> np.ndarray:
    """Class probabilities (N x C, float32) in the order of ``texts``.

    ``model`` maps (input_ids, attention_mask) to logits, as :class:`ReviewClassifier` does.
    """
    device = next(model.parameters()).device
    return length_sorted_probabilities(lambda ids, mask: model(ids.to(device), mask.to(device)), tokenizer, texts,
                                       max_length, batch_size, task)


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


def load_predictor(path: str | Path) -> Predictor:
    """A ``.ckpt`` from ``review_cls.train`` or a folder from ``review_cls.export``, ready for inference (eval, CPU)."""
    path = Path(path).expanduser()
    if path.is_dir():
        return load_exported(path)
    model, tokenizer = load_classifier(path)
    thresholds = None if model.thresholds is None else model.thresholds.numpy().copy()
    return Predictor(model, tokenizer, list(model.labels), int(model.hparams.max_length), model.task, thresholds)


def load_exported(folder: Path) -> Predictor:
    """Load an exported Hugging Face folder: safetensors weights only, no remote code."""
    from transformers import AutoModelForSequenceClassification

    tokenizer, labels, max_length, task, thresholds = exported_metadata(folder)
    try:
        classifier = AutoModelForSequenceClassification.from_pretrained(
            folder, trust_remote_code=False, use_safetensors=True
        )
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"Cannot load the exported model in '{folder}': {exc}") from exc
    return Predictor(LogitsOnly(apply_classifier_pooling(classifier)).eval(), tokenizer, labels, max_length, task,
                     thresholds)


# the files a tokenizer's vocabulary lives in; without one transformers builds a tokenizer of special tokens only
VOCAB_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "sentencepiece.bpe.model", "spiece.model")


def check_tokenizer_files(folder: Path, tokenizer: PreTrainedTokenizerBase) -> None:
    """Refuse a folder whose tokenizer knows no words: every review would become [UNK] and the predictions garbage
    that looks like a success."""
    words = len(tokenizer) - len(set(tokenizer.all_special_tokens))
    if not any((folder / name).is_file() for name in VOCAB_FILES) or words <= 0:
        raise CheckpointError(
            f"'{folder}' holds no usable tokenizer (none of {', '.join(VOCAB_FILES)}, or a vocabulary of special "
            "tokens only): every word would be read as [UNK]. Copy the whole export folder, or export the "
            "checkpoint again with `python -m review_cls.export`.")


def exported_metadata(folder: Path) -> tuple[PreTrainedTokenizerBase, list[str], int, Task, np.ndarray | None]:
    """An export folder's tokenizer, label names by id, truncation length, task and (multi-label) per-label
    thresholds, without loading its weights."""
    from transformers import AutoConfig, AutoTokenizer

    if not (folder / "config.json").is_file():
        raise CheckpointError(
            f"'{folder}' is a folder but not an exported model (no config.json). "
            "Pass a .ckpt from review_cls.train or a folder written by `python -m review_cls.export`."
        )
    try:
        config = AutoConfig.from_pretrained(folder, trust_remote_code=False)
        tokenizer = AutoTokenizer.from_pretrained(folder, use_fast=True, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"Cannot load the exported model in '{folder}': {exc}") from exc
    check_tokenizer_files(folder, tokenizer)
    labels = [str(config.id2label[i]) for i in sorted(config.id2label)]
    check_labels(labels, config.num_labels, folder / "config.json")
    limit = getattr(config, "max_position_embeddings", None) or tokenizer.model_max_length
    task, thresholds = exported_task(config, labels, folder / "config.json")
    return tokenizer, labels, int(min(tokenizer.model_max_length, limit)), task, thresholds
