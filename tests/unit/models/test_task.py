"""Single-label versus multi-label: Hugging Face's problem type, probabilities, predictions, targets and the
metric names each task logs."""

from __future__ import annotations

import pytest
import torch

from review_cls.models.task import DEFAULT_THRESHOLD, MULTI_LABEL, SINGLE_LABEL, task_of


def test_task_of_picks_the_task_and_its_hugging_face_problem_type():
    assert task_of(True) is MULTI_LABEL and task_of(False) is SINGLE_LABEL
    assert MULTI_LABEL.problem_type == "multi_label_classification"
    assert SINGLE_LABEL.problem_type == "single_label_classification"


def test_single_label_is_a_softmax_and_its_arg_max():
    logits = torch.tensor([[0.0, 2.0, 1.0], [3.0, 0.0, 0.0]], dtype=torch.float16)
    probabilities = SINGLE_LABEL.probabilities(logits)
    assert probabilities.dtype == torch.float32
    assert torch.allclose(probabilities.sum(dim=-1), torch.ones(2))
    assert SINGLE_LABEL.predictions(logits, DEFAULT_THRESHOLD).tolist() == [1, 0]
    labels = torch.tensor([1, 0])
    assert SINGLE_LABEL.targets(labels) is labels


def test_multi_label_predicts_every_label_at_or_above_its_threshold():
    logits = torch.tensor([[0.0, 2.0, -2.0]])  # sigmoids 0.5, 0.88, 0.12
    assert torch.allclose(MULTI_LABEL.probabilities(logits), torch.sigmoid(logits))
    assert MULTI_LABEL.predictions(logits, DEFAULT_THRESHOLD).tolist() == [[1, 1, 0]]
    per_label = torch.tensor([0.6, 0.9, 0.1])
    assert MULTI_LABEL.predictions(logits, per_label).tolist() == [[0, 0, 1]]
    assert MULTI_LABEL.targets(torch.tensor([[1.0, 0.0, 1.0]])).dtype == torch.int32


def test_both_tasks_log_f1_macro_and_multi_label_adds_hamming_and_subset_accuracy():
    assert set(SINGLE_LABEL.summary_metrics(3).keys()) == {"acc", "f1_macro", "f1_weighted"}
    assert set(MULTI_LABEL.summary_metrics(3).keys()) == {"f1_macro", "f1_micro", "f1_weighted", "hamming",
                                                          "subset_acc"}
    per_label = MULTI_LABEL.per_label_metrics(3)
    per_label.update(torch.tensor([[1, 0, 1], [0, 1, 1]]), torch.tensor([[1, 0, 0], [0, 1, 1]]))
    scores = per_label.compute()
    assert scores["recall"].tolist() == [1.0, 1.0, 1.0]
    assert scores["f1"].tolist() == pytest.approx([1.0, 1.0, 2 / 3])
