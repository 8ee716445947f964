"""The ``review_cls.export`` job: a checkpoint as a Hugging Face model folder that ``transformers.pipeline`` loads
offline.

The folder holds safetensors weights, ``config.json`` with ``id2label``/``label2id`` and the tokenizer, whose
``model_max_length`` is the training truncation length (``pipeline(..., truncation=True)`` cuts where training did).
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from review_cls.cli import require_settings
from review_cls.errors import CheckpointError, ConfigError

log = logging.getLogger(__name__)


def export_model(ckpt_path: str | Path, out: str | Path, overwrite: bool = False) -> Path:
    """Write the folder atomically (temp folder + rename); refuse a non-empty ``out`` unless ``overwrite``."""
    from review_cls.inference.checkpoints import load_classifier
    from review_cls.utils.atomic import atomic_dir

    target = Path(out).expanduser()
    if target.exists() and not target.is_dir():
        raise ConfigError(f"out='{target}' is a file; pick a folder name.")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise ConfigError(f"out='{target}' exists and is not empty; pick a new folder or pass overwrite=true.")
    model, tokenizer = load_classifier(ckpt_path)
    classifier = model.model
    id2label = {int(i): str(label) for i, label in classifier.config.id2label.items()}
    if [id2label.get(i) for i in range(len(model.labels))] != list(model.labels):
        raise CheckpointError(f"Checkpoint '{ckpt_path}' has labels {model.labels} but its model config says "
                              f"{id2label}; it cannot be exported consistently.")
    tokenizer.model_max_length = int(model.hparams.max_length)
    with atomic_dir(target) as folder:
        classifier.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        # safetensors writes its file owner-only; a model folder is meant to be shared or served like config.json
        mode = (folder / "config.json").stat().st_mode
        for path in folder.iterdir():
            path.chmod(mode)
    log.info("Exported %s (%d labels) -> %s", ckpt_path, len(model.labels), target)
    return target


def run_export(cfg: DictConfig) -> Path:
    require_settings(cfg, ("ckpt_path", "out"), "python -m review_cls.export ckpt_path=best.ckpt out=models/reviews")
    out = export_model(cfg.ckpt_path, cfg.out, bool(cfg.overwrite))
    print(f"exported to {out}: load with transformers.pipeline('text-classification', model='{out}')")
    return out
