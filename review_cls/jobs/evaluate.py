"""The ``review_cls.evaluate`` job: evaluate's settings checked, then a trained model scored on a whole labeled file
with the report files a training run writes for its test split (review_cls/inference/evaluation.py)."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from review_cls.errors import ConfigError
from review_cls.inference.checkpoints import LAST, resolve_ckpt_path
from review_cls.inference.evaluation import evaluate_model
from review_cls.utils.hardware import resolve_device
from review_cls.utils.settings import flag, whole_number


def require_model_and_data(cfg: DictConfig) -> None:
    """``ckpt_path`` and ``data.path`` have no default: say how to set them instead of an OmegaConf traceback."""
    if OmegaConf.is_missing(cfg, "ckpt_path"):
        raise ConfigError("Set ckpt_path=... to a .ckpt written by review_cls.train (or `last`, or an export folder).")
    if OmegaConf.is_missing(cfg.data, "path") or cfg.data.path is None:
        raise ConfigError("Set data.path=... to the labeled file to evaluate on (with data=file).")


def run_evaluation(cfg: DictConfig) -> dict[str, float]:
    """The ``review_cls.evaluate`` job: returns ``eval/acc``, ``eval/f1_macro``, ... (see write_prediction_reports)."""
    require_model_and_data(cfg)
    flag(cfg, "drop_unknown_labels")
    flag(cfg, "blend")
    whole_number(cfg.data, "eval_batch_size", 1, "data.")
    resolve_device(cfg.device)
    # resolve_ckpt_path only for `last`: it accepts files only, and an export folder is fine here
    model_path = resolve_ckpt_path(LAST, Path(cfg.paths.log_dir)) if str(cfg.ckpt_path) == LAST else str(cfg.ckpt_path)
    return evaluate_model(model_path, cfg.data, cfg.device, cfg.drop_unknown_labels, Path(cfg.paths.output_dir),
                          cfg.blend)
