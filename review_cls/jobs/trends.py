"""The ``review_cls.trends`` job: a predictions file read chunk by chunk into what changed and the topics, written
as one folder that appears whole or not at all."""

from __future__ import annotations

import logging
from typing import Any

from omegaconf import DictConfig

from review_cls.data.io import existing_table, iter_table_chunks, table_format
from review_cls.inference.predictor import load_predictor
from review_cls.monitoring.embeddings import model_embedder
from review_cls.monitoring.prediction_stream import output_folder, read_predictions
from review_cls.monitoring.trend_settings import check_stream_settings
from review_cls.reports.html_report import write_report
from review_cls.utils.atomic import atomic_dir
from review_cls.utils.hardware import resolve_device
from review_cls.utils.settings import flag, path_value, require_settings, whole_number

log = logging.getLogger(__name__)
USAGE = "python -m review_cls.trends input=predictions.csv [output=<folder>]"


def check_settings(cfg: DictConfig) -> None:
    """Every setting's type and range, before the input is read."""
    path_value(cfg, "input")
    for key in ("output", "ckpt_path"):
        if cfg.get(key) is not None:
            path_value(cfg, key)
    for key, minimum in (("chunk_size", 1), ("batch_size", 1), ("report_rows", 1), ("top_k", 0)):
        whole_number(cfg, key, minimum)
    for key in ("report", "overwrite"):
        flag(cfg, key)
    check_stream_settings(cfg)


def interrupted_note(cfg: DictConfig) -> str:
    return f"the output folder for input='{cfg.input}' was not written or changed."


def run_trends(cfg: DictConfig) -> dict[str, Any]:
    require_settings(cfg, ("input",), USAGE)
    check_settings(cfg)
    source = existing_table(cfg.input, "input")
    table_format(source)
    folder = output_folder(cfg, source)
    # only the encoder is read: the model alone (its blend's TF-IDF half plays no part in sentence vectors)
    embed = model_embedder(load_predictor(cfg.ckpt_path, device=resolve_device(cfg.device), blend=False),
                           cfg.batch_size) if cfg.ckpt_path else None
    chunks = iter_table_chunks(source, cfg.chunk_size, cfg.sheet_name, cfg.encoding, as_text=True,
                               sep=cfg.get("sep"), prefix="")
    summary = read_predictions(chunks, cfg, source)
    with atomic_dir(folder) as written:
        summary.write(written, source.name, embed)
        if cfg.report:
            write_report(summary, written / "report.html", source.name, cfg.ckpt_path)
    results = summary.trend_results
    log.info("%d flags, %d topics -> %s", len(results.emerging.flags), len(results.topics), folder)
    return {"flags": len(results.emerging.flags), "topics": len(results.topics), "output": str(folder)}
