"""The training losses and their class weights.

Focal loss (Lin et al. 2017) down-weights easy reviews so rare, hard classes get the gradient; its class weights
(``model.alpha``: inverse frequency, or class-balanced by effective number, Cui et al. 2019, or ``adaptive``: the
latter once the classes are imbalanced enough) serve plain cross-entropy too (``gamma=0``), and the multi-label loss
as ``pos_weight``.

Logit-adjusted loss (Menon et al. 2021; balanced softmax, Ren et al. 2020 is ``tau = 1``): training adds
``tau * log prior(y)`` to every logit before the loss, so frequent classes must win by a margin that grows with their
share; prediction uses the raw logits, which then favour rare classes by the same amount. Unlike class weights it
does not rescale any review's gradient, and unlike undersampling it keeps every review.

Asymmetric loss (Ridnik et al. 2021), multi-label only: a review has a few "yes" labels and many easy "no" ones, so
plain BCE is dominated by negatives the model already gets right. Negatives are down-weighted by ``p^gamma_neg``
after their probability is shifted down by ``clip`` (a negative below ``clip`` costs nothing, which also spares
positives the annotator missed), positives by ``(1 - p)^gamma_pos``.

R-Drop (Liang et al. 2021): each training review goes through the model twice, with two dropout masks, and the
symmetric KL divergence between the two predictions is added to the loss, so the model cannot lean on any one
dropout sub-network; a regulariser for small, noisy training sets, at twice the training cost.

Every choice among them is made in one place, :func:`build_loss`, from the model group's loss keys
(:class:`LossSettings`) once :func:`loss_hyperparameters` has resolved what depends on the training split (class
weights, log-prior offsets). A new loss adds its field to :class:`LossSettings`, its line to :func:`build_loss` and its
key to conf/model/minilm.yaml: checkpoints store the resolved values as plain hyperparameters, and the model card
lists whatever they hold.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from review_cls.errors import ConfigError
from review_cls.utils.settings import number

log = logging.getLogger(__name__)
# alpha: adaptive weighs classes once the largest has this many times the reviews of the smallest
ADAPTIVE = "adaptive"
ADAPTIVE_IMBALANCE = 4.0
ADAPTIVE_BETA = 0.999
# the alpha values a config may give, as error messages name them
ALPHA_CHOICES = "null, 'auto', 'adaptive', 'effective:<beta>'"
# a multi-label label on fewer training reviews than this share is rare enough that plain BCE neglects it
RARE_LABEL_SHARE = 0.1


@dataclass(frozen=True)
class LossSettings:
    """The loss keys of the model group (conf/model/minilm.yaml), checked when built: a bad value is a ConfigError
    naming ``model.<key>``. Their per-class values need the training split: :func:`loss_hyperparameters`."""

    gamma: float
    alpha: str | tuple[float, ...] | None
    logit_adjustment: float
    rdrop_alpha: float
    asymmetric_loss: dict[str, float] | None

    def __post_init__(self) -> None:
        values = vars(self)
        if number(values, "model", "gamma") < 0:
            raise ConfigError(f"model.gamma (focal loss) must be >= 0, got {self.gamma}.")
        check_alpha_setting(self.alpha)
        if isinstance(self.alpha, Sequence) and not isinstance(self.alpha, str):
            object.__setattr__(self, "alpha", tuple(self.alpha))
        if number(values, "model", "logit_adjustment") < 0:
            raise ConfigError(f"model.logit_adjustment (tau) must be >= 0, got {self.logit_adjustment}.")
        if number(values, "model", "rdrop_alpha") < 0:
            raise ConfigError(f"model.rdrop_alpha (R-Drop) must be >= 0 (0 = off), got {self.rdrop_alpha}.")
        object.__setattr__(self, "asymmetric_loss", asymmetric_settings(self.asymmetric_loss))


def check_alpha_setting(alpha: Any) -> None:
    """``alpha`` is null, ``auto``, ``adaptive``, ``effective:<beta>``, or a list of non-negative per-class weights
    (its length is checked once the classes are known)."""
    if alpha is None or alpha in ("auto", ADAPTIVE) or (isinstance(alpha, str) and effective_beta(alpha) is not None):
        return
    if isinstance(alpha, str) or not isinstance(alpha, Sequence):
        raise ConfigError(f"model.alpha must be {ALPHA_CHOICES} or a list with one weight per class, got {alpha!r}.")
    for value in alpha:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ConfigError(f"model.alpha must hold non-negative numbers, one per class; got {list(alpha)}.")


def loss_hyperparameters(settings: LossSettings, labels: Sequence[str], train_targets: Sequence[Any],
                         multilabel: bool) -> dict[str, Any]:
    """The loss settings with what depends on the training split resolved: ``alpha`` as one weight per class (the
    multi-label ``pos_weight``) and ``logit_adjustment`` as per-class ``logit_offsets``. Plain values, so a checkpoint
    stores them and :func:`build_loss` rebuilds the same loss from them alone. ``train_targets`` are the training
    label ids, or their 0/1 rows for multi-label data."""
    if multilabel:
        check_single_label_levers(settings)
        if settings.alpha is None:
            warn_unweighted_rare_labels(train_targets, labels)
    elif settings.asymmetric_loss is not None:
        raise ConfigError("model.asymmetric_loss is a multi-label loss (a sigmoid per label), but this data is "
                          "single-label: set model.asymmetric_loss=null, or model.gamma for focal loss.")
    values = dataclasses.asdict(settings)
    tau = values.pop("logit_adjustment")
    values["alpha"] = (positive_weights(settings.alpha, train_targets, labels) if multilabel
                       else resolve_alpha(settings.alpha, train_targets, labels))
    values["logit_offsets"] = None if multilabel else log_prior_offsets(train_targets, labels, float(tau))
    return values


def build_loss(loss: Mapping[str, Any], multilabel: bool) -> nn.Module:
    """The training loss from the values :func:`loss_hyperparameters` resolved (a checkpoint's ``loss``): focal loss
    with class weights, or BCE / the asymmetric loss per label with ``pos_weight``; logit-adjusted; R-Drop around it.
    A key a checkpoint lacks is a loss that did not exist when it was written: off."""
    weights = loss.get("alpha")
    if multilabel:
        pos_weight = None if weights is None else torch.as_tensor(list(weights), dtype=torch.float32)
        asymmetric = loss.get("asymmetric_loss")
        criterion: nn.Module = (SigmoidBCE(pos_weight=pos_weight) if asymmetric is None
                                else AsymmetricLoss(**asymmetric, pos_weight=pos_weight))
    else:
        criterion = FocalLoss(gamma=loss.get("gamma", 0.0), alpha=weights)
    if loss.get("logit_offsets") is not None:
        criterion = LogitAdjusted(criterion, loss["logit_offsets"])
    if loss.get("rdrop_alpha"):
        criterion = RDrop(criterion, float(loss["rdrop_alpha"]))
    return criterion


def check_single_label_levers(settings: LossSettings) -> None:
    """Focal loss, the logit-adjusted loss and R-Drop's KL are defined on one softmax over the classes."""
    used = [f"model.{name}={value}" for name, value in (("gamma", settings.gamma), ("logit_adjustment",
            settings.logit_adjustment), ("rdrop_alpha", settings.rdrop_alpha)) if value]
    if used:
        raise ConfigError(f"{', '.join(used)}: defined on a softmax over single labels, but this data is multi-label "
                          "(a sigmoid per label). Set it to 0, and weight rare labels with model.alpha=auto.")


def warn_unweighted_rare_labels(targets: Sequence[Sequence[float]], labels: Sequence[str]) -> None:
    """Plain BCE lets a rare label's many negatives outweigh its few positives: on the multi-label CLAP reviews
    (SECURITY on 2% of them) test macro-F1 was 0.43 with it and 0.71 with ``model.alpha=auto`` (docs/multilabel.md)."""
    shares = np.asarray(targets, dtype=float).reshape(len(targets), -1).mean(axis=0)
    rare = {str(labels[index]): round(float(shares[index]), 3) for index in np.flatnonzero(shares < RARE_LABEL_SHARE)}
    if rare:
        log.warning("Label(s) on fewer than %d%% of the training reviews (share %s) with model.alpha=null (plain BCE): "
                    "set model.alpha=auto to weight each label's positives by its negatives / positives.",
                    round(100 * RARE_LABEL_SHARE), rare)


class FocalLoss(nn.Module):
    """``-alpha_y (1 - p_y)^gamma log p_y``, averaged like ``cross_entropy`` (weighted mean when alpha is set).

    Computed in fp32 whatever the autocast dtype. ``gamma=0`` without alpha is exactly cross-entropy, and
    ``gamma=0`` with alpha is exactly class-weighted cross-entropy.
    """

    def __init__(self, gamma: float, alpha: Sequence[float] | None = None) -> None:
        super().__init__()
        self.gamma = float(gamma)
        weights = None if alpha is None else torch.as_tensor(list(alpha), dtype=torch.float32)
        self.register_buffer("alpha", weights, persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        log_probs = F.log_softmax(logits.float(), dim=-1)
        target_log_probs = log_probs.gather(1, target.unsqueeze(1)).squeeze(1)
        focal = (1.0 - target_log_probs.exp()).pow(self.gamma) if self.gamma else 1.0
        losses = -focal * target_log_probs
        if self.alpha is None:
            return losses.mean()
        weights = self.alpha.to(logits.device)[target]
        return (weights * losses).sum() / weights.sum()


def class_counts(label_ids: Sequence[int], labels: Sequence[str], setting: str) -> np.ndarray:
    """Reviews per class in the training split as trained on (after ``data.resampling``); every class must have
    some for a weight to exist."""
    counts = np.bincount(np.asarray(label_ids, dtype=np.int64), minlength=len(labels)).astype(float)
    if (counts == 0).any():
        missing = [str(labels[index]) for index in np.flatnonzero(counts == 0)]
        raise ConfigError(
            f"{setting} needs reviews of every class among the training reviews (after data.resampling); {missing} "
            f"have none. Use a data.resampling setting that keeps every class (e.g. data.resampling.strategy=none), "
            f"or train without {setting}.")
    return counts


def normalised(weights: np.ndarray) -> list[float]:
    """Scaled to mean 1, so the loss keeps the size plain cross-entropy has."""
    return (weights * len(weights) / weights.sum()).tolist()


def inverse_frequency_alpha(label_ids: Sequence[int], labels: Sequence[str]) -> list[float]:
    """Per-class weights proportional to 1 / class frequency, normalised to mean 1 (``alpha: auto``)."""
    return normalised(1.0 / class_counts(label_ids, labels, "model.alpha=auto"))


def effective_number_alpha(label_ids: Sequence[int], labels: Sequence[str], beta: float) -> list[float]:
    """Class-balanced weights (Cui et al. 2019): 1 / effective number ``(1 - beta^n) / (1 - beta)``, mean 1.

    The effective number saturates as a class grows, so at mild imbalance the weights stay near 1 where inverse
    frequency would still reweight, and at strong imbalance rare classes still gain (``alpha: effective:0.999``)."""
    counts = class_counts(label_ids, labels, f"model.alpha=effective:{beta}")
    return normalised(1.0 / effective_number(counts, beta))


def effective_number(counts: np.ndarray, beta: float) -> np.ndarray:
    """``(1 - beta^n) / (1 - beta)``: how many of ``n`` examples add new information (Cui et al. 2019)."""
    return (1.0 - np.power(beta, counts)) / (1.0 - beta)


def adaptive_alpha(label_ids: Sequence[int], labels: Sequence[str]) -> list[float] | None:
    """``alpha: adaptive``: class-balanced weights (``effective:0.999``) when the training split's largest class has
    at least ``ADAPTIVE_IMBALANCE`` times the reviews of its smallest, plain cross-entropy below. Measured on the
    review-set suite (docs/benchmarks/suite.md): weights cost Google Play (2.4:1) 1.3 points and gave CLAP (30:1)
    4-5; the threshold sits between the mildest set that needed them and the strongest that did not."""
    counts = class_counts(label_ids, labels, f"model.alpha={ADAPTIVE}")
    ratio = counts.max() / counts.min()
    if ratio < ADAPTIVE_IMBALANCE:
        log.info("model.alpha=adaptive: classes %.1f:1 (under %g:1), plain cross-entropy.", ratio, ADAPTIVE_IMBALANCE)
        return None
    log.info("model.alpha=adaptive: classes %.1f:1 (at least %g:1), class-balanced weights effective:%g.",
             ratio, ADAPTIVE_IMBALANCE, ADAPTIVE_BETA)
    return effective_number_alpha(label_ids, labels, ADAPTIVE_BETA)


def effective_beta(alpha: str) -> float | None:
    """The beta of an ``effective:<beta>`` setting, None for other strings; beta must lie in [0, 1)."""
    name, _, value = alpha.partition(":")
    if name != "effective":
        return None
    try:
        beta = float(value)
    except ValueError:
        beta = -1.0
    if not 0 <= beta < 1:
        raise ConfigError(f"model.alpha=effective:<beta> needs a beta in [0, 1), e.g. effective:0.999; got '{alpha}'.")
    return beta


def resolve_alpha(alpha: str | Sequence[float] | None, label_ids: Sequence[int], labels: Sequence[str]
                  ) -> list[float] | None:
    """Turn the ``alpha`` setting (None, ``auto``, ``adaptive``, ``effective:<beta>`` or a list) into per-class
    weights, checking its length."""
    num_labels = len(labels)
    if alpha is None:
        return None
    if isinstance(alpha, str):
        if alpha == "auto":
            return inverse_frequency_alpha(label_ids, labels)
        if alpha == ADAPTIVE:
            return adaptive_alpha(label_ids, labels)
        beta = effective_beta(alpha)
        if beta is None:
            raise ConfigError(f"model.alpha must be {ALPHA_CHOICES} or a list of {num_labels} numbers, got '{alpha}'.")
        return effective_number_alpha(label_ids, labels, beta)
    return listed_weights(alpha, num_labels)


def listed_weights(alpha: Sequence[float], num_labels: int) -> list[float]:
    """A list ``alpha`` as floats, one per class."""
    values = [float(value) for value in alpha]
    if len(values) != num_labels:
        raise ConfigError(f"model.alpha has {len(values)} value(s) but there are {num_labels} classes.")
    return values


def positive_weights(alpha: str | Sequence[float] | None, targets: np.ndarray, labels: Sequence[str]
                     ) -> list[float] | None:
    """Multi-label ``pos_weight`` of ``BCEWithLogitsLoss`` from the training targets (N x L, 0/1): ``auto`` is
    negatives / positives per label (inverse frequency of a label against its absence), ``effective:<beta>`` the
    same ratio of effective numbers (Cui et al. 2019), a list is taken as is. Every label needs a positive."""
    if alpha is None:
        return None
    targets = np.asarray(targets, dtype=float).reshape(len(targets), -1)
    if not isinstance(alpha, str):
        return listed_weights(alpha, targets.shape[1])
    positives = targets.sum(axis=0)
    if (positives == 0).any():
        missing = [str(labels[index]) for index in np.flatnonzero(positives == 0)]
        raise ConfigError(f"model.alpha={alpha} needs reviews of every label among the training reviews; {missing} "
                          "have none. Add reviews carrying them, or train without model.alpha.")
    negatives = len(targets) - positives
    if alpha in ("auto", ADAPTIVE):  # every label is a minority against its own absence: always weighted
        return (negatives / positives).tolist()
    beta = effective_beta(alpha)
    if beta is None:
        raise ConfigError(f"model.alpha must be {ALPHA_CHOICES} or a list of {targets.shape[1]} numbers, "
                          f"got '{alpha}'.")
    return (effective_number(negatives, beta) / effective_number(positives, beta)).tolist()


def log_prior_offsets(label_ids: Sequence[int], labels: Sequence[str], tau: float) -> list[float] | None:
    """``tau * log(class frequency)`` of the training labels; None when ``tau`` is 0 (plain loss)."""
    if not tau:
        return None
    return (tau * class_log_prior(label_ids, labels, "model.logit_adjustment")).tolist()


def class_log_prior(label_ids: Sequence[int], labels: Sequence[str], setting: str) -> np.ndarray:
    """``log(class share)`` of the training labels; every class needs a review (``setting`` names who asks)."""
    counts = class_counts(label_ids, labels, setting)
    return np.log(counts / counts.sum())


class LogitAdjusted(nn.Module):
    """Wraps a loss on logits: ``loss(logits + offsets, target)``."""

    def __init__(self, loss: nn.Module, offsets: Sequence[float]) -> None:
        super().__init__()
        self.loss = loss
        self.register_buffer("offsets", torch.as_tensor(list(offsets), dtype=torch.float32), persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.loss(logits.float() + self.offsets.to(logits.device), target)


class SigmoidBCE(nn.BCEWithLogitsLoss):
    """The multi-label loss: ``BCEWithLogitsLoss`` (one sigmoid per label, ``pos_weight`` per label) computed in fp32
    whatever the autocast dtype, as focal loss is; the targets are the 0/1 float rows of each review's labels."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return super().forward(logits.float(), target.float())


class AsymmetricLoss(nn.Module):
    """``-y (1-p)^gamma_pos log p - (1-y) p_m^gamma_neg log(1 - p_m)``, ``p_m = max(p - clip, 0)``, averaged over
    every (review, label) as BCE is, in fp32; ``pos_weight`` scales the positive term as in ``BCEWithLogitsLoss``.
    All three at 0 is exactly :class:`SigmoidBCE`."""

    def __init__(self, gamma_neg: float, gamma_pos: float, clip: float, pos_weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.gamma_neg, self.gamma_pos, self.clip = float(gamma_neg), float(gamma_pos), float(clip)
        self.register_buffer("pos_weight", pos_weight, persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logits, target = logits.float(), target.float()
        probs = logits.sigmoid()
        if self.clip:
            shifted = (probs - self.clip).clamp(min=0.0)
            log_negative = torch.log1p(-shifted)  # 1 - shifted >= clip > 0
        else:
            shifted, log_negative = probs, F.logsigmoid(-logits)
        positive = F.logsigmoid(logits) * ((1.0 - probs).pow(self.gamma_pos) if self.gamma_pos else 1.0)
        if self.pos_weight is not None:
            positive = positive * self.pos_weight.to(logits.device)
        negative = log_negative * (shifted.pow(self.gamma_neg) if self.gamma_neg else 1.0)
        return -(target * positive + (1.0 - target) * negative).mean()


ASYMMETRIC_KEYS = ("gamma_neg", "gamma_pos", "clip")


def asymmetric_settings(setting: Mapping[str, Any] | None) -> dict[str, float] | None:
    """``model.asymmetric_loss`` as plain floats (a checkpoint stores it), or None for plain BCE; the keys are
    :data:`ASYMMETRIC_KEYS`, the gammas >= 0 and clip in [0, 1)."""
    if setting is None:
        return None
    if not isinstance(setting, Mapping) or sorted(setting) != sorted(ASYMMETRIC_KEYS):
        raise ConfigError(f"model.asymmetric_loss must be null or {{gamma_neg: 4, gamma_pos: 0, clip: 0.05}} (those "
                          f"three keys), got {setting!r}.")
    values = {}
    for key in ASYMMETRIC_KEYS:
        value = setting[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (key == "clip" and value >= 1):
            raise ConfigError(f"model.asymmetric_loss.{key} must be a number >= 0{' and < 1' if key == 'clip' else ''}, "
                              f"got {value!r}.")
        values[key] = float(value)
    return values


class RDrop(nn.Module):
    """R-Drop around a per-pass loss: in training the module passes each batch twice in one forward pass (each copy
    its own dropout mask) and this loss takes the logits of both, stacked; it is the mean of the two per-pass losses
    plus ``alpha`` times their symmetric KL. Validation and test score one pass with ``per_pass``."""

    def __init__(self, per_pass: nn.Module, alpha: float) -> None:
        super().__init__()
        self.per_pass, self.alpha = per_pass, alpha

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        first, second = logits.chunk(2)
        loss = (self.per_pass(first, target) + self.per_pass(second, target)) / 2
        return loss + self.alpha * rdrop_penalty(first, second)


def rdrop_penalty(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Symmetric KL divergence between the class distributions of two passes over the same reviews, per review
    (``batchmean``), in fp32."""
    first, second = first.float().log_softmax(dim=-1), second.float().log_softmax(dim=-1)
    forward = F.kl_div(first, second, reduction="batchmean", log_target=True)
    backward = F.kl_div(second, first, reduction="batchmean", log_target=True)
    return (forward + backward) / 2
