"""Mean pooling for BERT-family sequence classifiers: the classifier reads the masked mean of the last hidden states
instead of the [CLS] state.

Why: a character BERT trained from scratch on a few thousand reviews has to learn to gather a review into [CLS];
the mean hands it a bag of characters in context, which is what TF-IDF's strength on topic-like categories rests on
(docs/benchmarks/levers.md, "Pooling": +5.1 test macro-F1 on Chinese reviews, 3 seeds). On MiniLM, fine-tuned on English
reviews, it did not pay, so ``cls`` stays the default there.

The setting lives in the model config as ``classifier_pooling`` (the key transformers' ModernBERT uses for the same
choice), so it travels in checkpoints and export folders; :func:`apply_classifier_pooling` is called wherever a
classifier is built or loaded. The pooler's ``dense`` layer is kept, so the weight names do not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from transformers import PretrainedConfig, PreTrainedModel

from review_cls.errors import ConfigError

POOLINGS = ("cls", "mean")


class MaskedMeanPooler(torch.nn.Module):
    """BERT's pooler (dense + tanh) over the mean of the non-padding positions rather than position 0.

    The encoder's forward does not hand its pooler the attention mask, so a pre-hook on the encoder leaves it here
    (``mask``) for the one forward pass that follows.
    """

    def __init__(self, dense: torch.nn.Linear, activation: torch.nn.Module) -> None:
        super().__init__()
        self.dense, self.activation = dense, activation
        self.mask: torch.Tensor | None = None

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        mask, self.mask = self.mask, None
        if mask is None:
            weights = torch.ones_like(hidden_states[..., :1])
        else:
            weights = mask.unsqueeze(-1).to(hidden_states.dtype)
        mean = (hidden_states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        return self.activation(self.dense(mean))


def check_pooling(pooling: Any) -> str:
    """``model.pooling`` as given, if it is one of :data:`POOLINGS` (checked before any data is read)."""
    if pooling not in POOLINGS:
        raise ConfigError(f"model.pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}.")
    return pooling


def pooling_of(config: PretrainedConfig | Mapping[str, Any]) -> str:
    """The pooling a model config (or its ``config.json`` dict) names; configs from before the setting: cls.
    Only ``cls`` is what plain transformers (``pipeline()``, no review_cls) computes too."""
    value = config.get("classifier_pooling") if isinstance(config, Mapping) else getattr(config, "classifier_pooling", None)
    return value or "cls"


def apply_classifier_pooling(model: PreTrainedModel) -> PreTrainedModel:
    """Give ``model`` the pooling its config names (``classifier_pooling``; absent or ``cls``: unchanged)."""
    pooling = check_pooling(pooling_of(model.config))
    encoder = model.base_model
    pooler = getattr(encoder, "pooler", None)
    if pooling == "cls" or isinstance(pooler, MaskedMeanPooler):
        return model
    if pooler is None or not isinstance(getattr(pooler, "dense", None), torch.nn.Linear):
        raise ConfigError(
            f"model.pooling=mean needs a BERT-family encoder whose classifier reads a pooler; "
            f"'{model.config.model_type}' has none. Use model.pooling=cls."
        )
    encoder.pooler = MaskedMeanPooler(pooler.dense, pooler.activation)
    encoder.register_forward_pre_hook(_hand_mask_to_pooler, with_kwargs=True)
    return model


def _hand_mask_to_pooler(encoder: torch.nn.Module, args: tuple, kwargs: dict) -> None:
    """The attention mask, by keyword or as the second positional argument, as transformers' forward takes it."""
    mask = kwargs.get("attention_mask")
    if mask is None and len(args) > 1:
        mask = args[1]
    encoder.pooler.mask = mask
