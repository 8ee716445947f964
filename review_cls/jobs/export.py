"""The ``review_cls.export`` job: a checkpoint as a Hugging Face model folder that ``transformers.pipeline`` loads
offline, with the checkpoint's blend with TF-IDF for review_cls (the folder's contents:
review_cls/inference/export_folder.py)."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig

from review_cls.inference.export_folder import BLEND_KEY, export_model
from review_cls.models.pooling import pooling_of
from review_cls.utils.settings import flag, path_value, require_settings


def run_export(cfg: DictConfig) -> Path:
    require_settings(cfg, ("ckpt_path", "out"), "python -m review_cls.export ckpt_path=best.ckpt out=models/reviews")
    out = export_model(path_value(cfg, "ckpt_path"), path_value(cfg, "out"), flag(cfg, "overwrite"), cfg.format,
                       cfg.quantize, cfg.language, flag(cfg, "blend"))
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    ships = "the model blended with its TF-IDF baseline" if BLEND_KEY in config else "the model alone"
    if pooling_of(config) == "cls":
        print(f"exported to {out}: python -m review_cls.predict ckpt_path={out} ships {ships}; "
              f"transformers.pipeline('text-classification', model='{out}') loads the model alone")
    else:
        print(f"exported to {out}: python -m review_cls.predict ckpt_path={out} ships {ships} (mean pooling: plain "
              "transformers' pipeline() would score it differently)")
    return out
