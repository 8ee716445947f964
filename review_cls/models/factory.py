"""Build the LightningModule from the model config plus what only the data knows (labels, class counts)."""

from __future__ import annotations

from collections.abc import Sequence

from review_cls.errors import ConfigError
from review_cls.models.backbone import backbone_config, model_max_length
from review_cls.models.focal_loss import resolve_alpha
from review_cls.models.module import check_optimizer_settings, ReviewClassifier


def build_review_classifier(
    labels: Sequence[str],
    train_label_ids: Sequence[int],
    max_length: int,
    pretrained: str,
    dropout: float | None = None,
    lr: float = 2e-5,
    weight_decay: float = 0.1,
    warmup_ratio: float = 0.1,
    betas: Sequence[float] = (0.9, 0.999),
    gamma: float = 2.0,
    alpha: str | Sequence[float] | None = None,
) -> ReviewClassifier:
    """Check every setting first, then load the backbone once with our labels and dropout."""
    if dropout is not None and not 0 <= dropout < 1:
        raise ConfigError(f"model.dropout must be in [0, 1), got {dropout}.")
    if gamma < 0:
        raise ConfigError(f"model.gamma (focal loss) must be >= 0, got {gamma}.")
    check_optimizer_settings(lr, weight_decay, warmup_ratio)
    id2label = dict(enumerate(labels))
    config = backbone_config(pretrained, len(labels), id2label, dropout)
    limit = model_max_length(config)
    if limit is not None and max_length > limit:
        raise ConfigError(f"data.max_length={max_length} is above what '{pretrained}' accepts ({limit} tokens).")
    return ReviewClassifier(
        backbone_config=config,
        labels=list(labels),
        pretrained=pretrained,
        max_length=max_length,
        lr=lr,
        weight_decay=weight_decay,
        warmup_ratio=warmup_ratio,
        betas=list(betas),
        gamma=gamma,
        alpha=resolve_alpha(alpha, train_label_ids, len(labels)),
    )
