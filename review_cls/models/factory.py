"""Build the LightningModule from the model config plus what only the data knows (labels, class counts)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from review_cls.errors import ConfigError
from review_cls.models.backbone import backbone_config
from review_cls.models.losses import asymmetric_settings, log_prior_offsets, positive_weights, resolve_alpha
from review_cls.models.module import ReviewClassifier
from review_cls.models.reinit import reinit_top_layers
from review_cls.models.task import task_of
from review_cls.models.vocab_transfer import pretrained_word_embeddings, transplant_word_embeddings

log = logging.getLogger(__name__)
# a multi-label label on fewer training reviews than this share is rare enough that plain BCE neglects it
RARE_LABEL_SHARE = 0.1


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
    prune_vocab: bool,
    fused_optimizer: bool,
    architecture: Mapping[str, int] | None,
    new_word_embeddings: bool,
    frozen_body_epochs: int,
    embedding_lr: float | None,
    layer_decay: float,
    logit_adjustment: float,
    token_vocab: Mapping[str, int] | None,
    pooling: str,
    rdrop_alpha: float,
    reinit_layers: int,
    asymmetric_loss: Mapping[str, float] | None,
    multilabel: bool,
) -> ReviewClassifier:
    """Load the backbone once with our labels and dropout. Every argument comes from the model config (its defaults
    live in conf/model/), checked before any data was read (review_cls/models/settings.py); only what needs the data
    (the tokenizer's size, the alpha length) is checked here.

    ``from_scratch`` takes only the architecture from ``pretrained`` and starts from random weights with an
    embedding matrix of ``vocab_size`` rows (the tokenizer's size), e.g. for a character vocab built from the data.
    ``freeze_embeddings`` keeps the word-embedding matrix fixed (most of MiniLM's parameters): AdamW then skips it.
    ``prune_vocab`` (the data pruned the tokenizer to the training split's pieces: data/vocab_pruning.py) keeps
    the matching rows of the pretrained word embeddings only.
    ``fused_optimizer`` uses torch's fused AdamW (same update, one kernel for all tensors).
    ``architecture`` (only with ``from_scratch``) replaces encoder config keys such as ``num_hidden_layers`` or
    ``hidden_size``: a smaller encoder learns a character vocab on a CPU, a BERT-base-sized one measures a GPU.
    ``new_word_embeddings`` keeps the pretrained body and builds word embeddings for ``token_vocab`` (the run's
    tokenizer), trained alone for ``frozen_body_epochs`` first (models/vocab_transfer.py); ``embedding_lr`` and
    ``layer_decay`` shape the per-group learning rates (models/optim.py); ``logit_adjustment`` is the tau of
    the logit-adjusted loss (models/losses.py); ``pooling`` is what the classifier reads, the [CLS] state or the
    mean of all positions (models/pooling.py). ``multilabel`` (from the data) trains a sigmoid per label with
    ``alpha`` as the loss's ``pos_weight`` (models/losses.py :func:`positive_weights`), with BCE or, given
    ``asymmetric_loss``, the asymmetric loss.
    """
    if new_word_embeddings and token_vocab is None:
        raise ConfigError("model.new_word_embeddings needs the tokenizer's vocab (token_vocab) to build the embeddings.")
    if multilabel:
        check_single_label_levers(gamma, logit_adjustment, rdrop_alpha)
        if alpha is None:
            warn_unweighted_rare_labels(train_label_ids, labels)
    elif asymmetric_loss is not None:
        raise ConfigError("model.asymmetric_loss is a multi-label loss (a sigmoid per label), but this data is "
                          "single-label: set model.asymmetric_loss=null, or model.gamma for focal loss.")
    id2label = dict(enumerate(labels))
    config = backbone_config(pretrained, len(labels), id2label, dropout)
    config["problem_type"] = task_of(multilabel).problem_type
    # a vocab of the run's own (new word embeddings, or the pretrained pieces the training split uses)
    renumbered = new_word_embeddings or prune_vocab
    check_vocab_size(vocab_size, config.get("vocab_size"), from_scratch or renumbered, pretrained)
    if (from_scratch or renumbered) and vocab_size:
        config["vocab_size"] = vocab_size
    config.update({key: int(value) for key, value in (architecture or {}).items()})
    config["classifier_pooling"] = pooling  # checked where the model is built (models/pooling.py)
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
        alpha=(positive_weights(alpha, train_label_ids, labels) if multilabel
               else resolve_alpha(alpha, train_label_ids, labels)),
        fused_optimizer=fused_optimizer,
        new_word_embeddings=renumbered,
        frozen_body_epochs=int(frozen_body_epochs),
        embedding_lr=embedding_lr,
        layer_decay=float(layer_decay),
        logit_offsets=None if multilabel else log_prior_offsets(train_label_ids, labels, float(logit_adjustment)),
        rdrop_alpha=float(rdrop_alpha),
        multilabel=multilabel,
        asymmetric_loss=asymmetric_settings(asymmetric_loss),
    )
    reinit_top_layers(classifier.model, int(reinit_layers))
    if renumbered:
        transplant_word_embeddings(classifier.model, *pretrained_word_embeddings(pretrained), token_vocab)
    if freeze_embeddings:
        classifier.model.get_input_embeddings().requires_grad_(False)
    return classifier


def warn_unweighted_rare_labels(targets: Sequence[Sequence[float]], labels: Sequence[str]) -> None:
    """Plain BCE lets a rare label's many negatives outweigh its few positives: on the multi-label CLAP reviews
    (SECURITY on 2% of them) test macro-F1 was 0.43 with it and 0.71 with ``model.alpha=auto`` (docs/multilabel.md)."""
    shares = np.asarray(targets, dtype=float).reshape(len(targets), -1).mean(axis=0)
    rare = {str(labels[index]): round(float(shares[index]), 3) for index in np.flatnonzero(shares < RARE_LABEL_SHARE)}
    if rare:
        log.warning("Label(s) on fewer than %d%% of the training reviews (share %s) with model.alpha=null (plain BCE): "
                    "set model.alpha=auto to weight each label's positives by its negatives / positives.",
                    round(100 * RARE_LABEL_SHARE), rare)


def check_single_label_levers(gamma: float, logit_adjustment: float, rdrop_alpha: float) -> None:
    """Focal loss, the logit-adjusted loss and R-Drop's KL are defined on one softmax over the classes."""
    used = [f"model.{name}={value}" for name, value in
            (("gamma", gamma), ("logit_adjustment", logit_adjustment), ("rdrop_alpha", rdrop_alpha)) if value]
    if used:
        raise ConfigError(f"{', '.join(used)}: defined on a softmax over single labels, but this data is multi-label "
                          "(a sigmoid per label). Set it to 0, and weight rare labels with model.alpha=auto.")


def check_vocab_size(vocab_size: int | None, model_vocab: int | None, from_scratch: bool, pretrained: str) -> None:
    """Token ids beyond the embedding matrix crash mid-epoch; only a model trained from scratch can be resized."""
    if vocab_size and model_vocab and vocab_size > model_vocab and not from_scratch:
        raise ConfigError(
            f"The tokenizer has {vocab_size} tokens but '{pretrained}' embeds only {model_vocab}. "
            "Use the model's own tokenizer, or model.from_scratch=true (e.g. model=char_bert) to train new embeddings."
        )
