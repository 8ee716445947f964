"""Label Studio, both ways: the reviews to label as import tasks with the model's guess pre-selected, and an export's
annotations back as a training table (text, label).

The tasks fit a labeling config with ``<Text name="text" value="$text"/>`` and ``<Choices name="label"
toName="text">`` (docs/labeling.md)."""

from __future__ import annotations

import difflib
import json
from html import escape
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
# a multi-label model's tasks say so in their data (Label Studio exports a task's data as it was imported), and the
# table read back joins each review's labels with this separator (train it with data.label_separator='|')
MULTILABEL_KEY, LABEL_SEPARATOR = "multilabel", "|"


def import_tasks(texts: Sequence[str], labels: Sequence[Sequence[str]], scores: Sequence[float], model_version: str,
                 multilabel: bool = False) -> list[dict[str, Any]]:
    """One task per review; the prediction pre-selects the model's labels (one, or a multi-label model's every
    label, maybe none), its score is how sure the model is."""
    return [
        {"data": {TO_NAME: text, **({MULTILABEL_KEY: True} if multilabel else {})},
         "predictions": [{"model_version": model_version, "score": float(score),
                          "result": [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices",
                                      "value": {"choices": list(chosen)}}] if chosen else []}]}
        for text, chosen, score in zip(texts, labels, scores)
    ]


def labeling_config(labels: Sequence[str], multilabel: bool) -> str:
    """The Label Studio labeling config the tasks fit: one choice per label, several per review when
    ``multilabel``."""
    choices = "".join(f'<Choice value="{escape(label, quote=True)}"/>' for label in labels)
    return (f'<View><Text name="{TO_NAME}" value="${TO_NAME}"/><Choices name="{FROM_NAME}" toName="{TO_NAME}" '
            f'choice="{"multiple" if multilabel else "single"}">{choices}</Choices></View>')


def write_tasks(tasks: list[dict[str, Any]], path: Path) -> None:
    with atomic_file(path) as temporary:
        temporary.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")


def write_labeled_table(export: Path, output: Path, overwrite: bool) -> dict[str, Any]:
    """A Label Studio JSON export's annotated tasks -> ``output`` (text,label): ready for ``data=file data.path=...``
    once joined to the training table, and for ``select.labeled=...``. A multi-label project's labels are joined
    with ``|`` in one cell (``data.label_separator='|'``)."""
    check_output_locations(output, {"select.from_label_studio": export}, False, overwrite, "select.labeled_output")
    reviews, multilabel = annotated_reviews(export)
    if reviews.empty:
        raise DataError(f"No task in '{export}' has an annotation choosing a label; nothing to write.")
    with atomic_file(output) as temporary, TableWriter(temporary, output_format(output), output) as writer:
        writer.write(reviews)
    log.info("%d labeled review(s) from '%s' -> %s%s", len(reviews), export, output,
             f" (multi-label: train with \"data.label_separator='{LABEL_SEPARATOR}'\")" if multilabel else "")
    return {"labeled": len(reviews), "output": str(output), "multilabel": multilabel}


def annotated_reviews(path: Path) -> tuple[pd.DataFrame, bool]:
    """``text`` and ``label`` of every task in a Label Studio JSON export that has an annotation choosing a label
    (the latest one that was not cancelled), and whether the project is multi-label (its tasks were written for a
    multi-label model). Multi-label, ``label`` joins the annotation's labels with ``|``, and a submitted annotation
    that chooses none says no label applies (an empty cell). Tasks nobody labeled are left out and counted in the
    log. A task whose annotation is malformed (a result that is not a list, a choice that is not a label name), or
    chooses several labels in a single-label project, is refused naming it; labels the model pre-selected in none
    of the tasks are named in a warning."""
    tasks = _export_tasks(path)
    multilabel = any(isinstance(task, dict) and isinstance(task.get("data"), dict)
                     and task["data"].get(MULTILABEL_KEY) is True for task in tasks)
    rows, unlabeled = [], 0
    for number, task in enumerate(tasks, start=1):
        data = task.get("data") if isinstance(task, dict) else None
        text = data.get(TO_NAME) if isinstance(data, dict) else None
        if not isinstance(text, str):
            raise DataError(f"Task {number} in '{path}' has no data.{TO_NAME}: is this an export of the tasks "
                            "`python -m review_cls.select` wrote?")
        labels = _chosen_labels(task.get("annotations") or [], f"Task {number} in '{path}'", multilabel)
        if labels is None:
            unlabeled += 1
        else:
            rows.append((text, labels))
    if unlabeled:
        log.warning("%d of %d task(s) in '%s' have no annotation choosing a label; left out.", unlabeled, len(tasks),
                    path)
    chosen = [label for _, labels in rows for label in labels]
    _warn_unknown_labels(pd.Series(chosen, dtype=object), _preselected_labels(tasks), path)
    reviews = pd.DataFrame([(text, LABEL_SEPARATOR.join(labels)) for text, labels in rows], columns=["text", "label"])
    return reviews, multilabel


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


def _chosen_labels(annotations: Any, task: str, multilabel: bool) -> tuple[str, ...] | None:
    """The labels of the latest annotation that was not cancelled and chose one (multi-label: the latest that was
    not cancelled, which may choose none); ``None`` when there is none."""
    if not isinstance(annotations, list):
        raise _malformed(task, f"its annotations are {annotations!r}, not a list")
    for annotation in reversed(annotations):
        if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
            continue
        choices = _annotation_choices(annotation.get("result") or [], task)
        if len(choices) > 1 and not multilabel:
            raise DataError(f"{task} chose {len(choices)} labels in one annotation ({', '.join(map(repr, choices))}), "
                            "but its tasks were written for a single-label model (one label per review). Keep one "
                            "choice per review (choice=\"single\" in the labeling config), then export again; tasks "
                            "select writes for a multi-label model are read with all their labels.")
        joined = [choice for choice in choices if LABEL_SEPARATOR in choice]
        if multilabel and joined:
            raise _malformed(task, f"its label {joined[0]!r} holds '{LABEL_SEPARATOR}', which joins the labels of a "
                                   "multi-label review in the table")
        if choices or multilabel:
            return tuple(choices)
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
