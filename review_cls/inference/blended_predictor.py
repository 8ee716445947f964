"""What predict ships: any predictor (PyTorch or ONNX Runtime) blended with the TF-IDF pipeline fitted beside it, at
the weight chosen on validation (models/blend.py); same labels, task and truncation as the model, and for a
multi-label model the thresholds chosen on the blended validation probabilities. Built from what a checkpoint (its
``blend`` key, the TF-IDF file in its run folder) or an export folder (``config.json`` and ``tfidf.npz``) records."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from review_cls.errors import CheckpointError
from review_cls.inference.export_folder import BLEND_KEY, exported_blend_record
from review_cls.inference.predictor import Predictor
from review_cls.models.blend import CHECKPOINT_KEY, Blend, BlendRecord
from review_cls.models.task import Task
from review_cls.models.tfidf_store import TFIDF_FILE, StoredTfidf, load_tfidf
from review_cls.utils.run_folder import RunFolder

log = logging.getLogger(__name__)
# how to keep a checkpoint's blend whole
KEEP_RUN_FOLDER = ("keep the checkpoint in its run folder (copy the whole folder), or export it with `python -m "
                   "review_cls.export` and use the export folder")


@dataclass(frozen=True)
class BlendedPredictor:
    """``blend.weight * model + (1 - blend.weight) * tfidf`` for every review; a Predictor like the model it wraps."""

    model: Predictor
    tfidf: StoredTfidf
    blend: Blend

    def __post_init__(self) -> None:
        check_blend_fits(self.model, self.tfidf, self.blend)

    @property
    def labels(self) -> list[str]:
        return self.model.labels

    @property
    def task(self) -> Task:
        return self.model.task

    @property
    def max_length(self) -> int:
        return self.model.max_length

    @property
    def thresholds(self) -> np.ndarray | None:
        """Multi-label: the thresholds chosen on the blended validation probabilities (not the model's own)."""
        return self.blend.thresholds if self.task.multilabel else None

    def to(self, device: torch.device | str) -> BlendedPredictor:
        """Move the model (the TF-IDF half runs on the CPU); returns the predictor for chaining."""
        self.model.to(device)
        return self

    def predict_probabilities(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Blended probabilities (N x labels, float32) in the order of ``texts``."""
        model = self.model.predict_probabilities(texts, batch_size)
        return self.blend.probabilities(model, self.tfidf.predict_probabilities(texts)).astype(np.float32)


def check_blend_fits(model: Predictor, tfidf: StoredTfidf, blend: Blend) -> None:
    """The TF-IDF half must score the model's labels, in the model's order, for the model's task."""
    if list(tfidf.labels) != list(model.labels):
        raise CheckpointError(f"The TF-IDF part scores labels {tfidf.labels}, the model {model.labels}: they were "
                              "not fitted on the same run.")
    if tfidf.multilabel != model.task.multilabel:
        kinds = {True: "multi-label", False: "single-label"}
        raise CheckpointError(f"The TF-IDF part is {kinds[tfidf.multilabel]}, the model "
                              f"{kinds[model.task.multilabel]}: they were not fitted on the same run.")
    if model.task.multilabel and (blend.thresholds is None or len(blend.thresholds) != len(model.labels)):
        raise CheckpointError(f"A multi-label blend needs one threshold per label ({len(model.labels)}); got "
                              f"{None if blend.thresholds is None else len(blend.thresholds)}.")


def checkpoint_blend(model: Predictor, checkpoint: Mapping[str, Any], path: Path) -> Predictor:
    """The model of the checkpoint at ``path`` blended as its ``blend`` record says, the TF-IDF file found in its run
    folder; the model alone, said once in the log, when the checkpoint records no blend."""
    record = checkpoint.get(CHECKPOINT_KEY)
    if record is None:
        log.warning("'%s' records no blend with a TF-IDF baseline (a last.ckpt, or a run with blend=null, "
                    "baseline=false or test=false): predicting with the model alone.", path)
        return model
    return recorded_blend(model, record, RunFolder.of_checkpoint(path).folder, path, KEEP_RUN_FOLDER)


def exported_blend(model: Predictor, folder: Path) -> Predictor:
    """The model of an export folder blended with the folder's ``tfidf.npz`` as its ``config.json`` records; the
    model alone, said once in the log, for a folder exported without a blend (or before export wrote one)."""
    config = folder / "config.json"
    record = exported_blend_record(folder)
    if record is None and (folder / TFIDF_FILE).exists():
        raise CheckpointError(f"'{folder / TFIDF_FILE}' is there but '{config}' records no blend ({BLEND_KEY}) "
                              "beside it. Restore config.json as export wrote it, or export the checkpoint again.")
    if record is None:
        log.warning("'%s' holds no TF-IDF part (exported without a blend, or before export wrote one): predicting "
                    "with the model alone.", folder)
        return model
    return recorded_blend(model, record, folder, config, "copy the whole export folder")


def recorded_blend(model: Predictor, record: Any, folder: Path, source: Path, keep: str) -> BlendedPredictor:
    """``model`` blended as ``record`` (read from ``source``) says, its TF-IDF file under ``folder``."""
    shipped, tfidf = recorded_tfidf(record, folder, source, keep)
    return BlendedPredictor(model, tfidf, shipped.blend)


def recorded_tfidf(record: Any, folder: Path, source: Path, keep: str) -> tuple[BlendRecord, StoredTfidf]:
    """The blend ``record`` read from ``source`` and its TF-IDF file under ``folder``, checked against the recorded
    SHA-256; a missing, changed or damaged file is a :class:`CheckpointError` that says how to ``keep`` it, or to
    use the model alone."""
    shipped = BlendRecord.from_dict(record, str(source))
    try:
        return shipped, load_tfidf(folder / shipped.tfidf_file, shipped.tfidf_sha256)
    except CheckpointError as error:
        raise CheckpointError(f"{error} '{source}' ships the model blended with this file: {keep}; or pass "
                              "blend=false for the model alone.") from error


def predictor_line(predictor: Predictor) -> str:
    """Which predictor made a command's predictions, in one line for its reports."""
    if isinstance(predictor, BlendedPredictor):
        weight = predictor.blend.weight
        return (f"the model blended with its TF-IDF baseline ({weight:.2f} model + {1 - weight:.2f} TF-IDF, rule "
                f"{predictor.blend.rule})")
    return "the model alone (no blend with TF-IDF)"
