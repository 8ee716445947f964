"""Build the LightningModule from the model config plus what only the data knows (labels, class counts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from review_cls.errors import ConfigError
from review_cls.models.backbone import backbone_config, model_max_length
from review_cls.models.focal_loss import resolve_alpha
from review_cls.models.module import ReviewClassifier, check_optimizer_settings


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
    from_scratch: bool = False,
    vocab_size: int | None = None,
    freeze_embeddings: bool = False,
    fused_optimizer: bool = True,
    architecture: Mapping[str, int] | None = None,
) -> ReviewClassifier:
    """Check every setting first, then load the backbone once with our labels and dropout.

    ``from_scratch`` takes only the architecture from ``pretrained`` and starts from random weights with an
    embedding matrix of ``vocab_size`` rows (the tokenizer's size), e.g. for a character vocab built from the data.
    ``freeze_embeddings`` keeps the word-embedding matrix fixed (most of MiniLM's parameters): AdamW then skips it.
    ``fused_optimizer`` uses torch's fused AdamW (same update, one kernel for all tensors).
    ``architecture`` (only with ``from_scratch``) replaces encoder config keys such as ``num_hidden_layers`` or
    ``hidden_size``: a smaller encoder learns a character vocab on a CPU, a BERT-base-sized one measures a GPU.
    """
    check_model_settings(dropout, gamma, lr, weight_decay, warmup_ratio)
    id2label = dict(enumerate(labels))
    config = backbone_config(pretrained, len(labels), id2label, dropout)
    check_vocab_size(vocab_size, config.get("vocab_size"), from_scratch, pretrained)
    if from_scratch and vocab_size:
        config["vocab_size"] = vocab_size
    config.update(checked_architecture(architecture, config, from_scratch, pretrained))
    check_max_length(max_length, model_max_length(config), pretrained)
    classifier = ReviewClassifier(
        backbone_config=config,
        labels=list(labels),
        pretrained=pretrained,
        init_from_pretrained=not from_scratch,
        max_length=max_length,
        lr=lr,
        weight_decay=weight_decay,
        warmup_ratio=warmup_ratio,
        betas=list(betas),
        gamma=gamma,
        alpha=resolve_alpha(alpha, train_label_ids, len(labels)),
        fused_optimizer=fused_optimizer,
    )
    if freeze_embeddings:
        classifier.model.get_input_embeddings().requires_grad_(False)
    return classifier


def check_model_settings(
    dropout: float | None, gamma: float, lr: float, weight_decay: float, warmup_ratio: float
) -> None:
    """Reject impossible model settings; cheap, so training checks them before reading any data."""
    if dropout is not None and not 0 <= dropout < 1:
        raise ConfigError(f"model.dropout must be in [0, 1), got {dropout}.")
    if gamma < 0:
        raise ConfigError(f"model.gamma (focal loss) must be >= 0, got {gamma}.")
    check_optimizer_settings(lr, weight_decay, warmup_ratio)


def checked_architecture(
    architecture: Mapping[str, int] | None, config: Mapping[str, Any], from_scratch: bool, pretrained: str
) -> dict[str, int]:
    """Architecture overrides as plain ints, refused where pretrained weights would not fit or the shape is invalid."""
    if not architecture:
        return {}
    if not from_scratch:
        raise ConfigError(
            f"model.architecture={dict(architecture)} changes the shape of '{pretrained}', so its weights no longer fit: "
            "set model.from_scratch=true (e.g. model=char_bert) or remove model.architecture."
        )
    unknown = sorted(set(architecture) - set(config))
    if unknown:
        raise ConfigError(f"model.architecture has key(s) {unknown} that the '{pretrained}' config does not have.")
    shape = {key: int(value) for key, value in architecture.items()}
    merged = {**config, **shape}
    if merged.get("hidden_size", 0) % merged.get("num_attention_heads", 1):
        raise ConfigError(
            f"model.architecture: hidden_size {merged['hidden_size']} must be a multiple of num_attention_heads "
            f"{merged['num_attention_heads']}."
        )
    return shape


def check_max_length(max_length: int, limit: int | None, pretrained: str) -> None:
    """Truncating beyond the encoder's position embeddings would crash mid-epoch on the first long review."""
    if limit is not None and max_length > limit:
        raise ConfigError(
            f"data.max_length={max_length} is above what '{pretrained}' accepts ({limit} tokens). "
            f"Set data.max_length={limit} or lower."
        )


def check_vocab_size(vocab_size: int | None, model_vocab: int | None, from_scratch: bool, pretrained: str) -> None:
    """Token ids beyond the embedding matrix crash mid-epoch; only a model trained from scratch can be resized."""
    if vocab_size and model_vocab and vocab_size > model_vocab and not from_scratch:
        raise ConfigError(
            f"The tokenizer has {vocab_size} tokens but '{pretrained}' embeds only {model_vocab}. "
            "Use the model's own tokenizer, or model.from_scratch=true (e.g. model=char_bert) to train new embeddings."
        )
