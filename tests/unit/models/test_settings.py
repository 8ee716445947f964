"""The model group's checks (run before any data is read): max_length against the encoder, architecture shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from review_cls.errors import ConfigError
from review_cls.models.settings import check_model_settings
from tests.helpers import group_settings


def test_max_length_above_the_model_limit_is_refused(tiny_bert_dir):
    with pytest.raises(ConfigError, match="max_length=512"):
        check_model_settings(group_settings("model", "minilm", pretrained=str(tiny_bert_dir)), 512)
    check_model_settings(group_settings("model", "minilm", pretrained=str(tiny_bert_dir)), 128)


@pytest.mark.parametrize(
    ("shape", "from_scratch", "message"),
    [
        ({"num_hidden_layers": 1}, False, "from_scratch=true"),
        ({"num_layers": 1}, True, "num_layers"),
        ({"hidden_size": 30, "num_attention_heads": 4}, True, "multiple of num_attention_heads"),
    ],
)
def test_bad_architecture_is_a_config_error(tiny_bert_dir: Path, shape, from_scratch: bool, message: str) -> None:
    settings = group_settings("model", "minilm", pretrained=str(tiny_bert_dir), from_scratch=from_scratch,
                              architecture=shape)
    with pytest.raises(ConfigError, match=message):
        check_model_settings(settings, 32)


@pytest.mark.parametrize(("setting", "fragment"), [({"gamma": -1.0}, "gamma"), ({"alpha": [1, -1]}, "non-negative"),
                                                   ({"weight_decay": -0.1}, "weight_decay")])
def test_loss_and_optimizer_settings_are_checked(setting, fragment) -> None:
    with pytest.raises(ConfigError, match=fragment):
        check_model_settings(group_settings("model", "minilm") | setting, 128)
