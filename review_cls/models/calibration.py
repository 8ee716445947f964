"""Confidence that means what it says: temperature scaling (Guo et al. 2017) and post-hoc logit adjustment
(Menon et al. 2021), both fitted on the validation split and folded into the classification head.

Both are exact edits of the last linear layer: ``(W h + b - tau * log prior) / T`` is ``W' h + b'`` with
``W' = W / T`` and ``b' = (b - tau * log prior) / T``. So the best checkpoint, ``predict``, ``evaluate`` and an
exported folder (``transformers.pipeline`` included) all give the calibrated probabilities with no extra code.
Temperature never changes which class wins; the logit adjustment can, and is only used when it is switched on
and raises validation macro-F1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.metrics import f1_score
from torchmetrics.functional.classification import multiclass_calibration_error

ECE_BINS = 15
TAU_GRID = tuple(np.round(np.arange(0.0, 2.01, 0.25), 2))


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, steps: int = 100) -> float:
    """The T > 0 minimising the negative log-likelihood of ``softmax(logits / T)`` (optimised as log T)."""
    log_t = torch.zeros((), requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=steps, line_search_fn="strong_wolfe")
    logits, labels = logits.detach().float(), labels.detach().long()

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())


def expected_calibration_error(logits: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0) -> float:
    """ECE of the top-class confidence in 15 equal-width bins (torchmetrics)."""
    probabilities = (logits.float() / temperature).softmax(dim=-1)
    return float(multiclass_calibration_error(probabilities, labels.long(), num_classes=logits.shape[1],
                                              n_bins=ECE_BINS, norm="l1"))


def log_prior(label_ids: Sequence[int], num_labels: int) -> torch.Tensor:
    """log of each class's share of the training labels (classes absent from training get the smallest share)."""
    counts = np.bincount(np.asarray(label_ids, dtype=np.int64), minlength=num_labels).astype(float)
    counts = np.maximum(counts, 1.0)
    return torch.as_tensor(np.log(counts / counts.sum()), dtype=torch.float32)


def macro_f1(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float(f1_score(labels.numpy(), logits.argmax(dim=-1).numpy(), average="macro",
                          labels=list(range(logits.shape[1])), zero_division=0))


def choose_logit_adjustment(logits: torch.Tensor, labels: torch.Tensor, prior: torch.Tensor,
                            grid: Sequence[float] = TAU_GRID) -> float:
    """The tau of ``logits - tau * log prior`` with the best validation macro-F1 (the smallest on ties; 0 = none)."""
    scores = [macro_f1(logits - tau * prior, labels) for tau in grid]
    return float(grid[int(np.argmax(scores))])


def output_layer(model: torch.nn.Module, num_labels: int) -> torch.nn.Linear:
    """The last linear layer producing the ``num_labels`` logits (``classifier`` in BERT, ``out_proj`` in RoBERTa)."""
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.out_features == num_labels]
    if not layers:
        raise ValueError(f"No linear layer with {num_labels} outputs to fold the calibration into.")
    return layers[-1]


@torch.no_grad()
def fold_into_head(layer: torch.nn.Linear, temperature: float, offsets: torch.Tensor | None = None) -> None:
    """Make ``layer`` output ``(logits - offsets) / temperature`` instead of ``logits``."""
    if offsets is not None:
        layer.bias.sub_(offsets.to(layer.bias))
    layer.weight.div_(temperature)
    layer.bias.div_(temperature)
