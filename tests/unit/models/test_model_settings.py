"""The model group as one settings object, checked when built (before any data is read): unknown keys with the
setting they resemble, max_length against the encoder, architecture shapes, loss and optimizer ranges."""

from __future__ import annotations

from pathlib import Path

import pytest

from review_cls.errors import ConfigError
from review_cls.models.losses import LossSettings
from review_cls.models.optim import OptimizerSettings
from review_cls.models.model_settings import ModelSettings
from tests.helpers import group_settings


def model_settings(**overrides) -> ModelSettings:
    return ModelSettings.from_config(group_settings("model", "minilm") | overrides)


def test_the_yaml_keys_stay_flat_and_each_part_gets_its_own(tiny_bert_dir):
    settings = model_settings(pretrained=str(tiny_bert_dir), lr=3e-4, gamma=2, alpha=[1, 2], betas=[0.8, 0.99])
    assert isinstance(settings.optimizer, OptimizerSettings) and isinstance(settings.loss, LossSettings)
    assert (settings.optimizer.lr, settings.optimizer.betas) == (3e-4, (0.8, 0.99))
    assert (settings.loss.gamma, settings.loss.alpha) == (2, (1, 2))
    assert settings.pretrained == str(tiny_bert_dir) and settings.max_positions == 128
    with pytest.raises(AttributeError):
        settings.optimizer.lr = 1.0  # frozen: built once, passed whole


@pytest.mark.parametrize(("key", "message"), [
    ("lrr", "Unknown model setting(s): model.lrr (did you mean model.lr?). Known: "),
    ("gama", "model.gama (did you mean model.gamma?)"),
    ("colour", "Unknown model setting(s): model.colour. Known: "),
])
def test_an_unknown_key_names_the_setting_it_resembles(key, message):
    with pytest.raises(ConfigError) as caught:
        model_settings(**{key: 1})
    assert message in str(caught.value) and "rdrop_alpha" in str(caught.value)  # every part's keys are known


def test_hydras_own_keys_are_not_settings_and_a_missing_key_is_named():
    assert model_settings(_target_="anything").pooling == "cls"
    values = group_settings("model", "minilm")
    del values["warmup_ratio"]
    with pytest.raises(ConfigError, match="lack model.warmup_ratio"):
        ModelSettings.from_config(values)


def test_max_length_above_the_model_limit_is_refused(tiny_bert_dir):
    settings = model_settings(pretrained=str(tiny_bert_dir))
    with pytest.raises(ConfigError, match="max_length=512"):
        settings.check_max_length(512)
    settings.check_max_length(128)


@pytest.mark.parametrize(
    ("shape", "from_scratch", "message"),
    [
        ({"num_hidden_layers": 1}, False, "from_scratch=true"),
        ({"num_layers": 1}, True, "num_layers"),
        ({"hidden_size": 30, "num_attention_heads": 4}, True, "multiple of num_attention_heads"),
    ],
)
def test_bad_architecture_is_a_config_error(tiny_bert_dir: Path, shape, from_scratch: bool, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        model_settings(pretrained=str(tiny_bert_dir), from_scratch=from_scratch, architecture=shape)


@pytest.mark.parametrize(("setting", "fragment"), [
    ({"gamma": -1.0}, "gamma"), ({"alpha": [1, -1]}, "non-negative"), ({"weight_decay": -0.1}, "weight_decay"),
    ({"betas": [0.9]}, "model.betas must be two numbers"),
    ({"fused_optimizer": "yes"}, "model.fused_optimizer must be"),
    ({"frozen_body_epochs": 1.5}, "model.frozen_body_epochs must be a whole number >= 0"),
    ({"from_scratch": 1}, "model.from_scratch must be true or false"), ({"pooling": "max"}, "pooling"),
])
def test_loss_and_optimizer_settings_are_checked(setting, fragment) -> None:
    with pytest.raises(ConfigError, match=fragment):
        model_settings(**setting)
