"""Single-label or multi-label: the few things that differ between the two tasks, in one place.

Single-label: softmax over the labels, the arg-max is the prediction, multiclass metrics. Multi-label: a sigmoid per
label, every label whose probability reaches its threshold is predicted, multilabel metrics (Hamming distance and
subset accuracy too). Everything else (data, batching, training loop, reports) is shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torchmetrics import Metric, MetricCollection
from torchmetrics.classification import (
    MulticlassAccuracy,
    MulticlassF1Score,
    MulticlassRecall,
    MultilabelExactMatch,
    MultilabelF1Score,
    MultilabelHammingDistance,
    MultilabelRecall,
)

# a multi-label prediction's threshold before one is chosen on validation
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Task:
    multilabel: bool

    @property
    def problem_type(self) -> str:
        """Hugging Face's name for it: with it, ``pipeline("text-classification")`` applies softmax or sigmoid."""
        return "multi_label_classification" if self.multilabel else "single_label_classification"

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        return logits.sigmoid() if self.multilabel else logits.softmax(dim=-1)

    def predictions(self, logits: torch.Tensor, thresholds: torch.Tensor | float) -> torch.Tensor:
        """Class ids (single-label), or the 0/1 matrix of labels at or above their threshold (multi-label)."""
        if not self.multilabel:
            return logits.argmax(dim=-1)
        return (self.probabilities(logits) >= thresholds).int()

    def targets(self, labels: torch.Tensor) -> torch.Tensor:
        return labels.int() if self.multilabel else labels

    def summary_metrics(self, num_labels: int) -> MetricCollection:
        """The epoch metrics, under names shared by both tasks where they mean the same (``f1_macro`` is monitored)."""
        if not self.multilabel:
            return MetricCollection({
                "acc": MulticlassAccuracy(num_labels, average="micro"),
                "f1_macro": MulticlassF1Score(num_labels, average="macro"),
                "f1_weighted": MulticlassF1Score(num_labels, average="weighted"),
            })
        return MetricCollection({
            "f1_macro": MultilabelF1Score(num_labels, average="macro"),
            "f1_micro": MultilabelF1Score(num_labels, average="micro"),
            "f1_weighted": MultilabelF1Score(num_labels, average="weighted"),
            "hamming": MultilabelHammingDistance(num_labels),
            "subset_acc": MultilabelExactMatch(num_labels),
        })

    def per_label_metrics(self, num_labels: int) -> MetricCollection:
        metrics: dict[str, Metric] = (
            {"f1": MultilabelF1Score(num_labels, average=None), "recall": MultilabelRecall(num_labels, average=None)}
            if self.multilabel else
            {"f1": MulticlassF1Score(num_labels, average=None), "recall": MulticlassRecall(num_labels, average=None)}
        )
        return MetricCollection(metrics)


SINGLE_LABEL, MULTI_LABEL = Task(False), Task(True)


def task_of(multilabel: bool) -> Task:
    return MULTI_LABEL if multilabel else SINGLE_LABEL


def task_of_config(config: Mapping[str, Any]) -> Task:
    """The task a classifier's config (a dict, as checkpoints store it) was built for: its ``problem_type``."""
    return task_of(config.get("problem_type") == MULTI_LABEL.problem_type)
