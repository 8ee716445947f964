"""Build the LightningModule from the model settings plus what only the data knows (labels, class counts)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from review_cls.errors import ConfigError
from review_cls.models.backbone import backbone_config, build_classifier
from review_cls.models.losses import loss_hyperparameters
from review_cls.models.module import ReviewClassifier
from review_cls.models.reinit import reinit_top_layers
from review_cls.models.model_settings import ModelSettings
from review_cls.models.task import task_of
from review_cls.models.vocab_transfer import pretrained_word_embeddings, transplant_word_embeddings

def build_review_classifier(
    settings: ModelSettings,
    labels: Sequence[str],
    train_targets: Sequence[Any],
    max_length: int,
    multilabel: bool = False,
    vocab_size: int | None = None,
    token_vocab: Mapping[str, int] | None = None,
) -> ReviewClassifier:
    """Load the backbone once with our labels and dropout. ``settings`` is the model group, checked before any data
    was read (review_cls/models/model_settings.py); the rest is what only the data knows, checked here: its ``labels``, the
    training split's ``train_targets`` (label ids, or 0/1 rows when ``multilabel``) that class weights and priors
    come from, and the run tokenizer's size and vocab (``vocab_size``, ``token_vocab``).

    ``from_scratch`` takes only the architecture from ``pretrained`` (reshaped by ``architecture``) and starts from
    random weights with an embedding matrix of ``vocab_size`` rows, e.g. for a character vocab built from the data.
    ``new_word_embeddings`` keeps the pretrained body and builds word embeddings for ``token_vocab``
    (models/vocab_transfer.py); ``prune_vocab`` (the data pruned the tokenizer to the training split's pieces:
    data/vocab_pruning.py) keeps the matching rows of the pretrained word embeddings only. ``freeze_embeddings``
    keeps the word-embedding matrix fixed (most of MiniLM's parameters): AdamW then skips it. ``pooling`` is what the
    classifier reads, the [CLS] state or the mean of all positions (models/pooling.py).
    """
    if settings.new_word_embeddings and token_vocab is None:
        raise ConfigError("model.new_word_embeddings needs the tokenizer's vocab (token_vocab) to build the embeddings.")
    loss = loss_hyperparameters(settings.loss, labels, train_targets, multilabel)
    config = backbone_config(settings.pretrained, len(labels), dict(enumerate(labels)), settings.dropout)
    config["problem_type"] = task_of(multilabel).problem_type
    # a vocab of the run's own (new word embeddings, or the pretrained pieces the training split uses)
    renumbered = settings.new_word_embeddings or settings.prune_vocab
    check_vocab_size(vocab_size, config.get("vocab_size"), settings.from_scratch or renumbered, settings.pretrained)
    if (settings.from_scratch or renumbered) and vocab_size:
        config["vocab_size"] = vocab_size
    config.update(settings.architecture or {})
    config["classifier_pooling"] = settings.pooling  # checked with the settings (models/pooling.py)
    model = build_classifier(config, None if settings.from_scratch else settings.pretrained,
                             new_word_embeddings=renumbered)
    classifier = ReviewClassifier(config, list(labels), max_length, dataclasses.asdict(settings.optimizer), loss,
                                  pretrained=settings.pretrained, model=model)
    reinit_top_layers(classifier.model, settings.reinit_layers)
    if renumbered:
        transplant_word_embeddings(classifier.model, *pretrained_word_embeddings(settings.pretrained), token_vocab)
    if settings.freeze_embeddings:
        classifier.model.get_input_embeddings().requires_grad_(False)
    return classifier


def check_vocab_size(vocab_size: int | None, model_vocab: int | None, from_scratch: bool, pretrained: str) -> None:
    """Token ids beyond the embedding matrix crash mid-epoch; only a model trained from scratch can be resized."""
    if vocab_size and model_vocab and vocab_size > model_vocab and not from_scratch:
        raise ConfigError(
            f"The tokenizer has {vocab_size} tokens but '{pretrained}' embeds only {model_vocab}. "
            "Use the model's own tokenizer, or model.from_scratch=true (e.g. model=char_bert) to train new embeddings."
        )
