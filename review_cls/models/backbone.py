"""Load the encoder and its config: the packaged offline MiniLM, a local folder, or a hub name for online users."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from transformers import AutoConfig, AutoModelForSequenceClassification, PretrainedConfig, PreTrainedModel

from review_cls.errors import ConfigError
from review_cls.models.pooling import apply_classifier_pooling
from review_cls.models.pretrained import load_hint, resolve_pretrained

log = logging.getLogger(__name__)
DROPOUT_KEYS = ("hidden_dropout_prob", "attention_probs_dropout_prob")


def encoder_config(name: str) -> PretrainedConfig:
    """The encoder's own config (a small JSON file): enough to check settings before any weights are read."""
    source = resolve_pretrained(name)
    check_local_folder(source)
    try:
        return AutoConfig.from_pretrained(source, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(load_hint(name, source, exc)) from exc


def check_local_folder(source: str) -> None:
    """A ``model.pretrained`` written as a path (absolute, ``./``, ``~``, or more than one ``/``: a hub name has at
    most one) must be a folder with config.json: otherwise the hub would be asked for a repository of that name."""
    path = Path(source).expanduser()
    written_as_path = path.is_absolute() or source.startswith((".", "~")) or source.count("/") > 1
    if not written_as_path or (path / "config.json").is_file():
        return
    if path.is_dir():
        problem = "is a folder without config.json (a model folder saved by save_pretrained holds one)"
    elif path.exists():
        problem = "is a file; give the folder that holds the model's config.json and weights"
    else:
        problem = f"does not exist (working directory: {Path.cwd()})"
    raise ConfigError(f"model.pretrained='{source}' {problem}. Use a local model folder, model=minilm for the "
                      "packaged offline model, or a hub name while online.")


def backbone_config(name: str, num_labels: int, id2label: dict[int, str], dropout: float | None) -> dict[str, Any]:
    """The model config as a plain dict (saved in checkpoints) with our labels and dropout applied."""
    config = encoder_config(name)
    config.num_labels = num_labels
    config.id2label = {int(i): str(label) for i, label in id2label.items()}
    config.label2id = {str(label): int(i) for i, label in id2label.items()}
    return with_dropout(config, dropout).to_dict()


def with_dropout(config: PretrainedConfig, dropout: float | None) -> PretrainedConfig:
    """Set hidden and attention dropout (``None`` keeps the checkpoint's own)."""
    if dropout is not None:
        for key in DROPOUT_KEYS:
            if hasattr(config, key):
                setattr(config, key, float(dropout))
    return config


def model_max_length(config: dict[str, Any]) -> int | None:
    """Longest input the encoder's position embeddings allow, when the config says."""
    return config.get("max_position_embeddings")


def build_classifier(config_dict: dict[str, Any], pretrained: str | None, new_word_embeddings: bool = False):
    """Sequence classifier from a plain config dict; with ``pretrained`` the encoder weights are loaded too
    (``new_word_embeddings``: all but the word embeddings, whose size the config changed; see vocab_transfer.py),
    pooled as the config's ``classifier_pooling`` says (models/pooling.py)."""
    model = load_model(AutoModelForSequenceClassification, config_dict, pretrained, new_word_embeddings)
    return apply_classifier_pooling(model)


def load_model(auto_class: type, config_dict: dict[str, Any], pretrained: str | None,
               ignore_mismatched_sizes: bool) -> PreTrainedModel:
    """An ``auto_class`` model from a plain config dict; with ``pretrained`` its weights are loaded too (safetensors
    from a local folder, never remote code). ``ignore_mismatched_sizes`` lets weights whose shape the config changed
    (a new vocab's embedding matrix) start fresh."""
    config = AutoConfig.for_model(**config_dict)
    if pretrained is None:
        return auto_class.from_config(config)
    source = resolve_pretrained(pretrained)
    try:
        return auto_class.from_pretrained(
            source, config=config, trust_remote_code=False, use_safetensors=_has_safetensors(source),
            ignore_mismatched_sizes=ignore_mismatched_sizes,
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(load_hint(pretrained, source, exc)) from exc


def _has_safetensors(source: str) -> bool | None:
    """Insist on safetensors when a local folder has them; let hub downloads pick (they prefer safetensors)."""
    folder = Path(source)
    if folder.is_dir():
        return any(folder.glob("*.safetensors")) or None
    return None
