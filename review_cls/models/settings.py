"""Checks of the model config group (conf/model/): impossible loss, optimizer, shape and length settings fail in a
second, before any data is read. Only the encoder's small config file is opened, never its weights."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from hydra.utils import get_method

from review_cls.errors import ConfigError
from review_cls.models.backbone import encoder_config, model_max_length
from review_cls.models.losses import ADAPTIVE, ALPHA_CHOICES, asymmetric_settings, effective_beta
from review_cls.models.pooling import check_pooling
from review_cls.utils.settings import number


def check_model_settings(model: Mapping[str, Any], max_length: int) -> None:
    """Every model setting that can be judged without the data (resolved ``cfg.model`` as a plain mapping), and the
    data's ``max_length`` against the encoder's position embeddings. The alpha length needs the class count, so
    :func:`review_cls.models.losses.resolve_alpha` checks it once the labels are known."""
    check_model_keys(model)
    if model["dropout"] is not None and not 0 <= number(model, "model", "dropout") < 1:
        raise ConfigError(f"model.dropout must be in [0, 1), got {model['dropout']}.")
    if number(model, "model", "gamma") < 0:
        raise ConfigError(f"model.gamma (focal loss) must be >= 0, got {model['gamma']}.")
    if not number(model, "model", "lr") > 0:
        raise ConfigError(f"model.lr must be > 0, got {model['lr']}.")
    if number(model, "model", "weight_decay") < 0:
        raise ConfigError(f"model.weight_decay must be >= 0, got {model['weight_decay']}.")
    if not 0 <= number(model, "model", "warmup_ratio") < 1:
        raise ConfigError(f"model.warmup_ratio must be in [0, 1), got {model['warmup_ratio']}.")
    check_alpha_setting(model["alpha"])
    check_lever_settings(model)
    pretrained = str(model["pretrained"])
    encoder = encoder_config(pretrained).to_dict()
    shape = checked_architecture(model["architecture"], encoder, bool(model["from_scratch"]), pretrained)
    check_reinit_layers(model, encoder)
    check_max_length(max_length, model_max_length({**encoder, **shape}), pretrained)


# what the training job passes to the model's builder itself: never set in the config
FROM_THE_DATA = ("labels", "train_label_ids", "max_length", "vocab_size", "token_vocab", "multilabel")


def check_model_keys(model: Mapping[str, Any]) -> None:
    """Every ``model.*`` key must be a setting the ``_target_`` builder takes: a typo (``+model.lrr=1e-4``) fails
    here, naming the known ones, instead of as a TypeError after the data was read."""
    try:
        parameters = inspect.signature(get_method(str(model["_target_"]))).parameters
    except (KeyError, ValueError, TypeError, ImportError, AttributeError):
        return  # no or unusual target: instantiation reports it
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values()):
        return
    known = sorted(set(parameters) - set(FROM_THE_DATA))
    unknown = sorted(key for key in model if not key.startswith("_") and key not in known)
    if unknown:
        close = {key: difflib.get_close_matches(key, known, n=1) for key in unknown}
        named = ", ".join(f"model.{key}" + (f" (did you mean model.{close[key][0]}?)" if close[key] else "")
                          for key in unknown)
        raise ConfigError(f"Unknown model setting(s): {named}. Known: {', '.join(known)}.")


def check_lever_settings(model: Mapping[str, Any]) -> None:
    """The optional training levers: vocabulary transfer needs pretrained weights; lr and loss numbers must be in range."""
    if model["new_word_embeddings"] and model["from_scratch"]:
        raise ConfigError("model.new_word_embeddings keeps the pretrained body: it cannot go with model.from_scratch=true.")
    if model["prune_vocab"] and model["from_scratch"]:
        raise ConfigError("model.prune_vocab keeps the pretrained word embeddings of the pieces the data uses: it "
                          "cannot go with model.from_scratch=true (a model trained from scratch has its own vocab).")
    if number(model, "model", "frozen_body_epochs") < 0:
        raise ConfigError(f"model.frozen_body_epochs must be >= 0, got {model['frozen_body_epochs']}.")
    if model["embedding_lr"] is not None and not number(model, "model", "embedding_lr") > 0:
        raise ConfigError(f"model.embedding_lr must be > 0 or null, got {model['embedding_lr']}.")
    if not 0 < number(model, "model", "layer_decay") <= 1:
        raise ConfigError(f"model.layer_decay must be in (0, 1] (1 = the same lr for every layer), got {model['layer_decay']}.")
    if number(model, "model", "logit_adjustment") < 0:
        raise ConfigError(f"model.logit_adjustment (tau) must be >= 0, got {model['logit_adjustment']}.")
    check_pooling(model["pooling"])
    asymmetric_settings(model["asymmetric_loss"])
    if number(model, "model", "rdrop_alpha") < 0:
        raise ConfigError(f"model.rdrop_alpha (R-Drop) must be >= 0 (0 = off), got {model['rdrop_alpha']}.")


def check_reinit_layers(model: Mapping[str, Any], encoder: Mapping[str, Any]) -> None:
    """``reinit_layers`` restarts the top layers of pretrained weights: at most the encoder's depth, and pointless
    (so refused) when every weight is random anyway."""
    count = model["reinit_layers"]
    if not count:
        return
    depth = encoder.get("num_hidden_layers")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0 or (depth is not None and count > depth):
        raise ConfigError(f"model.reinit_layers must be a whole number from 0 to {depth} (the encoder's layers), "
                          f"got {count!r}.")
    if model["from_scratch"]:
        raise ConfigError("model.reinit_layers restarts pretrained layers; with model.from_scratch=true every layer "
                          "is random already: set model.reinit_layers=0.")


def check_alpha_setting(alpha: Any) -> None:
    """``alpha`` is null, ``auto``, ``adaptive``, ``effective:<beta>``, or a list of non-negative per-class weights
    (its length is checked later)."""
    if alpha is None or alpha in ("auto", ADAPTIVE) or (isinstance(alpha, str) and effective_beta(alpha) is not None):
        return
    if isinstance(alpha, str) or not isinstance(alpha, Sequence):
        raise ConfigError(f"model.alpha must be {ALPHA_CHOICES} or a list with one weight per class, got {alpha!r}.")
    for value in alpha:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ConfigError(f"model.alpha must hold non-negative numbers, one per class; got {list(alpha)}.")


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
