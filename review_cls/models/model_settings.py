"""The model config group (conf/model/) as one typed, frozen object, built and checked once before any data is read:
impossible loss, optimizer, shape and length settings fail in a second. Only the encoder's small config file is
opened, never its weights."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from review_cls.errors import ConfigError
from review_cls.models.backbone import encoder_config, model_max_length
from review_cls.models.losses import LossSettings
from review_cls.models.optim import OptimizerSettings
from review_cls.models.pooling import check_pooling
from review_cls.utils.settings import check_known_keys, field_names, field_values, flag, group_values, number

# the sub-objects of the model settings, each reading its own keys of the (flat) model group
PARTS = {"optimizer": OptimizerSettings, "loss": LossSettings}


@dataclass(frozen=True)
class ModelSettings:
    """Which encoder, how it starts and what it reads (the fields here), how it is optimized (``optimizer``) and what
    loss it trains with (``loss``). The YAML keys stay flat (``model.lr``, ``model.gamma``); :meth:`from_config`
    hands each part its own. ``max_positions`` is what the checks learned: the longest input the encoder takes."""

    pretrained: str
    dropout: float | None
    from_scratch: bool
    architecture: dict[str, int] | None
    freeze_embeddings: bool
    new_word_embeddings: bool
    prune_vocab: bool
    pooling: str
    reinit_layers: int
    optimizer: OptimizerSettings
    loss: LossSettings
    max_positions: int | None = field(init=False, default=None, compare=False)

    @classmethod
    def from_config(cls, model: Mapping[str, Any]) -> ModelSettings:
        """The model group (``cfg.model``) as settings: an unknown key names the setting it resembles."""
        values = group_values(model)
        own = [name for name in field_names(cls) if name not in PARTS]
        check_known_keys(values, own + [name for part in PARTS.values() for name in field_names(part)], "model")
        parts = {name: part(**field_values(part, values, "model")) for name, part in PARTS.items()}
        return cls(**field_values(cls, values | parts, "model"))

    def __post_init__(self) -> None:
        values = vars(self)
        if self.dropout is not None and not 0 <= number(values, "model", "dropout") < 1:
            raise ConfigError(f"model.dropout must be in [0, 1), got {self.dropout}.")
        for name in ("from_scratch", "freeze_embeddings", "new_word_embeddings", "prune_vocab"):
            flag(values, name, "model.")
        if self.new_word_embeddings and self.from_scratch:
            raise ConfigError("model.new_word_embeddings keeps the pretrained body: it cannot go with "
                              "model.from_scratch=true.")
        if self.prune_vocab and self.from_scratch:
            raise ConfigError("model.prune_vocab keeps the pretrained word embeddings of the pieces the data uses: "
                              "it cannot go with model.from_scratch=true (a model trained from scratch has its own "
                              "vocab).")
        check_pooling(self.pooling)
        encoder = encoder_config(str(self.pretrained)).to_dict()
        shape = checked_architecture(self.architecture, encoder, self.from_scratch, str(self.pretrained))
        object.__setattr__(self, "architecture", shape or None)
        check_reinit_layers(self.reinit_layers, encoder, self.from_scratch)
        object.__setattr__(self, "max_positions", model_max_length({**encoder, **shape}))

    def check_max_length(self, max_length: int) -> None:
        """Truncating beyond the encoder's position embeddings would crash mid-epoch on the first long review."""
        if self.max_positions is not None and max_length > self.max_positions:
            raise ConfigError(
                f"data.max_length={max_length} is above what '{self.pretrained}' accepts ({self.max_positions} "
                f"tokens). Set data.max_length={self.max_positions} or lower."
            )


def check_reinit_layers(count: Any, encoder: Mapping[str, Any], from_scratch: bool) -> None:
    """``reinit_layers`` restarts the top layers of pretrained weights: at most the encoder's depth, and pointless
    (so refused) when every weight is random anyway."""
    depth = encoder.get("num_hidden_layers")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0 or (depth is not None and count > depth):
        raise ConfigError(f"model.reinit_layers must be a whole number from 0 to {depth} (the encoder's layers), "
                          f"got {count!r}.")
    if count and from_scratch:
        raise ConfigError("model.reinit_layers restarts pretrained layers; with model.from_scratch=true every layer "
                          "is random already: set model.reinit_layers=0.")


def checked_architecture(
    architecture: Mapping[str, int] | None, config: Mapping[str, Any], from_scratch: bool, pretrained: str
) -> dict[str, int]:
    """Architecture overrides as plain ints, refused where pretrained weights would not fit or the shape is invalid."""
    if not architecture:
        return {}
    if not isinstance(architecture, Mapping):
        raise ConfigError(f"model.architecture must be null or encoder config keys with numbers, e.g. "
                          f"{{num_hidden_layers: 2}}; got {architecture!r}.")
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
