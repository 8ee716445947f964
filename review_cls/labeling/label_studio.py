"""Label Studio, both ways: the reviews to label as import tasks with the model's guess pre-selected, and an export's
annotations back as a training table (text, label).

The tasks fit a labeling config with ``<Text name="text" value="$text"/>`` and ``<Choices name="label"
toName="text">`` (docs/labeling.md)."""

from __future__ import annotations

import difflib
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
    check_output_locations(output, {"select.from_label_studio": export}, False, overwrite, "select.labeled_output")
    reviews = annotated_reviews(export)
    if reviews.empty:
        raise DataError(f"No task in '{export}' has an annotation choosing a label; nothing to write.")
    with atomic_file(output) as temporary, TableWriter(temporary, output_format(output), output) as writer:
        writer.write(reviews)
    log.info("%d labeled review(s) from '%s' -> %s", len(reviews), export, output)
    return {"labeled": len(reviews), "output": str(output)}


def annotated_reviews(path: Path) -> pd.DataFrame:
    """``text`` and ``label`` of every task in a Label Studio JSON export that has an annotation choosing a label
    (the latest one that was not cancelled); tasks nobody labeled are left out and counted in the log. A task whose
    annotation is malformed (a result that is not a list, a choice that is not a label name) or chooses several
    labels is refused naming it; labels the model pre-selected in none of the tasks are named in a warning."""
    tasks = _export_tasks(path)
    rows, unlabeled = [], 0
    for number, task in enumerate(tasks, start=1):
        data = task.get("data") if isinstance(task, dict) else None
        text = data.get(TO_NAME) if isinstance(data, dict) else None
        if not isinstance(text, str):
            raise DataError(f"Task {number} in '{path}' has no data.{TO_NAME}: is this an export of the tasks "
                            "`python -m review_cls.select` wrote?")
        label = _chosen_label(task.get("annotations") or [], f"Task {number} in '{path}'")
        if label is None:
            unlabeled += 1
        else:
            rows.append((text, label))
    if unlabeled:
        log.warning("%d of %d task(s) in '%s' have no annotation choosing a label; left out.", unlabeled, len(tasks),
                    path)
    reviews = pd.DataFrame(rows, columns=["text", "label"])
    _warn_unknown_labels(reviews["label"], _preselected_labels(tasks), path)
    return reviews


def _export_tasks(path: Path) -> list[Any]:
    try:  # utf-8-sig: an export saved again by an editor may start with a byte-order mark
        tasks = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise DataError(f"Label Studio export '{path}' does not exist (working directory: {Path.cwd()}).") from exc
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read '{path}' as a Label Studio JSON export: {exc}. Export the project as JSON "
                        "(not JSON-MIN or CSV).") from exc
    if not isinstance(tasks, list):
        raise DataError(f"'{path}' is not a Label Studio JSON export (a list of tasks); export the project as JSON.")
    return tasks


def _chosen_label(annotations: Any, task: str) -> str | None:
    """The label of the latest annotation that was not cancelled and chose one; ``None`` when none did."""
    if not isinstance(annotations, list):
        raise _malformed(task, f"its annotations are {annotations!r}, not a list")
    for annotation in reversed(annotations):
        if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
            continue
        choices = _annotation_choices(annotation.get("result") or [], task)
        if len(choices) > 1:
            raise DataError(f"{task} chose {len(choices)} labels in one annotation ({', '.join(map(repr, choices))}): "
                            "the tables select writes hold one label per review, and multi-label tasks are not "
                            "supported. Keep one choice per review (a single-choice `<Choices>` in the labeling "
                            "config), then export again.")
        if choices:
            return choices[0]
    return None


def _annotation_choices(result: Any, task: str) -> list[str]:
    """Every label the annotation's ``label`` results choose, each once, in order."""
    if not isinstance(result, list):
        raise _malformed(task, f"an annotation's result is {result!r}, not a list")
    choices: list[str] = []
    for item in result:
        if not isinstance(item, dict):
            raise _malformed(task, f"an annotation's result holds {item!r}, not an object")
        if item.get("from_name") != FROM_NAME:
            continue  # another control of the labeling config (a comment box, a rating)
        value = item.get("value")
        found = value.get("choices") if isinstance(value, dict) else None
        if not isinstance(found, list):
            raise _malformed(task, f"its '{FROM_NAME}' result has no list of choices ({value!r})")
        for choice in found:
            if not isinstance(choice, str) or not choice.strip():
                raise _malformed(task, f"its '{FROM_NAME}' result chooses {choice!r}, not a label name")
            if choice.strip() not in choices:
                choices.append(choice.strip())
    return choices


def _malformed(task: str, what: str) -> DataError:
    return DataError(f"{task} is not a Label Studio annotation this project can read: {what}. Export the project "
                     "again as JSON, or fix that task.")


def _preselected_labels(tasks: list[Any]) -> set[str]:
    """The labels the tasks' predictions (the model's guesses written by select) pre-select."""
    found = set()
    for task in tasks:
        for prediction in (task.get("predictions") or []) if isinstance(task, dict) else []:
            for item in (prediction.get("result") or []) if isinstance(prediction, dict) else []:
                value = item.get("value") if isinstance(item, dict) else None
                choices = value.get("choices") if isinstance(value, dict) else None
                found.update(choice for choice in choices or [] if isinstance(choice, str))
    return found


def _warn_unknown_labels(labels: pd.Series, preselected: set[str], path: Path) -> None:
    """Chosen labels the model pre-selected nowhere: a new class, or a typo in the labeling config."""
    if not preselected:
        return
    unknown = labels[~labels.isin(preselected)].value_counts()
    if unknown.empty:
        return
    named = ", ".join(
        f"{label!r} ({count} task(s)"
        + "".join(f", did you mean {close!r}?" for close in difflib.get_close_matches(label, preselected, n=1)) + ")"
        for label, count in unknown.items())
    log.warning("Label(s) %s in '%s' are pre-selected by the model in none of its tasks (those pre-select %s): a "
                "new class, or a typo in the labeling config? They are written as they are.", named, path,
                ", ".join(map(repr, sorted(preselected))))
