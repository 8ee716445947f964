"""Label Studio, both ways: the reviews to label as import tasks with the model's guess pre-selected, and an export's
annotations back as a training table (text, label).

The tasks fit a labeling config with ``<Text name="text" value="$text"/>`` and ``<Choices name="label"
toName="text">`` (docs/labeling.md)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from review_cls.data.writers import TableWriter, output_format
from review_cls.errors import DataError
from review_cls.inference.prediction_files import check_output_locations
from review_cls.utils.atomic import atomic_file

log = logging.getLogger(__name__)
FROM_NAME, TO_NAME = "label", "text"


def import_tasks(texts: Sequence[str], predicted: Sequence[str], confidence: Sequence[float],
                 model_version: str) -> list[dict[str, Any]]:
    """One task per review; the prediction pre-selects the model's label, its score is the model's confidence."""
    return [
        {"data": {TO_NAME: text},
         "predictions": [{"model_version": model_version, "score": float(score),
                          "result": [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices",
                                      "value": {"choices": [label]}}]}]}
        for text, label, score in zip(texts, predicted, confidence)
    ]


def write_tasks(tasks: list[dict[str, Any]], path: Path) -> None:
    with atomic_file(path) as temporary:
        temporary.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")


def write_labeled_table(export: Path, output: Path, overwrite: bool) -> dict[str, Any]:
    """A Label Studio JSON export's annotated tasks -> ``output`` (text,label): ready for ``data=file data.path=...``
    once joined to the training table, and for ``select.labeled=...``."""
    check_output_locations(output, export, False, overwrite)
    reviews = annotated_reviews(export)
    if reviews.empty:
        raise DataError(f"No task in '{export}' has an annotation choosing a label; nothing to write.")
    with atomic_file(output) as temporary, TableWriter(temporary, output_format(output), output) as writer:
        writer.write(reviews)
    log.info("%d labeled review(s) from '%s' -> %s", len(reviews), export, output)
    return {"labeled": len(reviews), "output": str(output)}


def annotated_reviews(path: Path) -> pd.DataFrame:
    """``text`` and ``label`` of every task in a Label Studio JSON export that has an annotation choosing a label
    (the latest one that was not cancelled); tasks nobody labeled are left out and counted in the log."""
    tasks = _export_tasks(path)
    rows, unlabeled = [], 0
    for number, task in enumerate(tasks, start=1):
        data = task.get("data") if isinstance(task, dict) else None
        text = data.get(TO_NAME) if isinstance(data, dict) else None
        if not isinstance(text, str):
            raise DataError(f"Task {number} in '{path}' has no data.{TO_NAME}: is this an export of the tasks "
                            "`python -m review_cls.select` wrote?")
        label = _chosen_label(task.get("annotations") or [])
        if label is None:
            unlabeled += 1
        else:
            rows.append((text, label))
    if unlabeled:
        log.warning("%d of %d task(s) in '%s' have no annotation choosing a label; left out.", unlabeled, len(tasks),
                    path)
    return pd.DataFrame(rows, columns=["text", "label"])


def _export_tasks(path: Path) -> list[Any]:
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError(f"Label Studio export '{path}' does not exist (working directory: {Path.cwd()}).") from exc
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read '{path}' as a Label Studio JSON export: {exc}. Export the project as JSON "
                        "(not JSON-MIN or CSV).") from exc
    if not isinstance(tasks, list):
        raise DataError(f"'{path}' is not a Label Studio JSON export (a list of tasks); export the project as JSON.")
    return tasks


def _chosen_label(annotations: list[Any]) -> str | None:
    for annotation in reversed(annotations):
        if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
            continue
        for result in annotation.get("result") or []:
            value = result.get("value") if isinstance(result, dict) and result.get("from_name") == FROM_NAME else None
            choices = value.get("choices") if isinstance(value, dict) else None
            if isinstance(choices, list) and choices:
                return str(choices[0])
    return None
