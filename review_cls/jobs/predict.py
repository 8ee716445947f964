"""The ``review_cls.predict`` job: predict's settings checked, then the file predicted chunk by chunk (flat memory,
progress, atomic output, insight summary: review_cls/inference/batch_predict.py)."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from review_cls.errors import ConfigError
from review_cls.inference.batch_predict import predict_file
from review_cls.inference.prediction_columns import multilabel_settings
from review_cls.inference.predictor import check_runtime
from review_cls.monitoring.trend_settings import check_stream_settings
from review_cls.utils.settings import flag, path_value, require_settings, whole_number

USAGE = "python -m review_cls.predict ckpt_path=best.ckpt input=reviews.csv output=predictions.csv"


def check_predict_settings(cfg: DictConfig) -> None:
    """Every setting's type and range, before the checkpoint or the input is read."""
    for key in ("ckpt_path", "input", "output"):
        path_value(cfg, key)
    for key in ("chunk_size", "batch_size"):
        whole_number(cfg, key, 1)
    multilabel_settings(cfg)
    whole_number(cfg, "top_k", 0)
    whole_number(cfg, "report_rows", 1)
    for key in ("progress", "insights", "overwrite", "report", "blend"):
        flag(cfg, key)
    check_stream_settings(cfg)
    sheet = cfg.get("sheet_name")
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, (str, int))):
        raise ConfigError(f"sheet_name must be a sheet's name or number, got {sheet!r}.")
    check_runtime(cfg.runtime)


def interrupted_note(cfg: DictConfig) -> str:
    """What a stopped predict leaves (the one line ``cli.run_command`` prints): the output is written atomically."""
    return f"output='{cfg.output}' was not written or changed."


def run_prediction(cfg: DictConfig) -> dict[str, Any]:
    """The ``review_cls.predict`` job: the output file (and insights folder) appear whole or not at all."""
    require_settings(cfg, ("ckpt_path", "input", "output"), USAGE)
    check_predict_settings(cfg)
    if cfg.engine != "local":  # Ray Data over a file, folder or glob, into a folder of Parquet parts
        from review_cls.inference.ray_predict import run_ray_prediction

        return run_ray_prediction(cfg)
    return predict_file(cfg)
