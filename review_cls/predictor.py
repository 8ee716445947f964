"""One loader for both things a user may point predict at: a training checkpoint or an exported model folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import PreTrainedTokenizerBase

from review_cls.checkpoints import load_classifier
from review_cls.errors import CheckpointError


@dataclass(frozen=True)
class Predictor:
    """A model mapping (input_ids, attention_mask) to logits, its tokenizer, label names by id, truncation length."""

    model: torch.nn.Module
    tokenizer: PreTrainedTokenizerBase
    labels: list[str]
    max_length: int


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
    return Predictor(model, tokenizer, list(model.labels), int(model.hparams.max_length))


def load_exported(folder: Path) -> Predictor:
    """Load an exported Hugging Face folder: safetensors weights only, no remote code."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if not (folder / "config.json").is_file():
        raise CheckpointError(
            f"'{folder}' is a folder but not an exported model (no config.json). "
            "Pass a .ckpt from review_cls.train or a folder written by `python -m review_cls.export`."
        )
    try:
        classifier = AutoModelForSequenceClassification.from_pretrained(
            folder, trust_remote_code=False, use_safetensors=True
        )
        tokenizer = AutoTokenizer.from_pretrained(folder, use_fast=True, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"Cannot load the exported model in '{folder}': {exc}") from exc
    id2label = classifier.config.id2label
    labels = [str(id2label[i]) for i in sorted(id2label)]
    limit = getattr(classifier.config, "max_position_embeddings", None) or tokenizer.model_max_length
    return Predictor(LogitsOnly(classifier).eval(), tokenizer, labels, int(min(tokenizer.model_max_length, limit)))
