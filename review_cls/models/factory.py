"""Build the LightningModule from the model config plus what only the data knows (labels, class counts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from review_cls.errors import ConfigError
from review_cls.models.backbone import backbone_config
from review_cls.models.focal_loss import resolve_alpha
from review_cls.models.module import ReviewClassifier


def build_review_classifier(
    labels: Sequence[str],
    train_label_ids: Sequence[int],
    max_length: int,
    pretrained: str,
    dropout: float | None,
    lr: float,
    weight_decay: float,
    warmup_ratio: float,
    betas: Sequence[float],
    gamma: float,
    alpha: str | Sequence[float] | None,
    from_scratch: bool,
    vocab_size: int | None,
    freeze_embeddings: bool,
    fused_optimizer: bool,
    architecture: Mapping[str, int] | None,
) -> ReviewClassifier:
    """Load the backbone once with our labels and dropout. Every argument comes from the model config (its defaults
    live in conf/model/), checked before any data was read (review_cls/models/settings.py); only what needs the data
    (the tokenizer's size, the alpha length) is checked here.

    ``from_scratch`` takes only the architecture from ``pretrained`` and starts from random weights with an
    embedding matrix of ``vocab_size`` rows (the tokenizer's size), e.g. for a character vocab built from the data.
    ``freeze_embeddings`` keeps the word-embedding matrix fixed (most of MiniLM's parameters): AdamW then skips it.
    ``fused_optimizer`` uses torch's fused AdamW (same update, one kernel for all tensors).
    ``architecture`` (only with ``from_scratch``) replaces encoder config keys such as ``num_hidden_layers`` or
    ``hidden_size``: a smaller encoder learns a character vocab on a CPU, a BERT-base-sized one measures a GPU.
    """
    id2label = dict(enumerate(labels))
    config = backbone_config(pretrained, len(labels), id2label, dropout)
    check_vocab_size(vocab_size, config.get("vocab_size"), from_scratch, pretrained)
    if from_scratch and vocab_size:
        config["vocab_size"] = vocab_size
    config.update({key: int(value) for key, value in (architecture or {}).items()})
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


def check_vocab_size(vocab_size: int | None, model_vocab: int | None, from_scratch: bool, pretrained: str) -> None:
    """Token ids beyond the embedding matrix crash mid-epoch; only a model trained from scratch can be resized."""
    if vocab_size and model_vocab and vocab_size > model_vocab and not from_scratch:
        raise ConfigError(
            f"The tokenizer has {vocab_size} tokens but '{pretrained}' embeds only {model_vocab}. "
            "Use the model's own tokenizer, or model.from_scratch=true (e.g. model=char_bert) to train new embeddings."
        )
