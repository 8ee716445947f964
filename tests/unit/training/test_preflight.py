"""Settings checked before any data is read: an impossible setting fails in seconds with its name."""

from __future__ import annotations

import pytest

from review_cls.errors import ConfigError, ReviewClsError
from tests.helpers import fails


def test_unknown_encoding_is_a_config_error(compose_train_cfg):
    fails(compose_train_cfg("data.encoding=klingon"), ConfigError, "data.encoding='klingon'", "utf-8")


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("model.lr=-1e-3", "model.lr must be > 0"),
        ("model.lr=abc", "model.lr must be a number"),
        ("model.dropout=1.0", "model.dropout must be in [0, 1)"),
        ("model.dropout=-0.1", "model.dropout must be in [0, 1)"),
        ("model.gamma=-2", "model.gamma (focal loss) must be >= 0"),
        ("model.alpha=[1,-1]", "non-negative"),
        ("model.alpha=effective:2", "needs a beta in [0, 1)"),
        ("model.alpha=balanced", "'effective:<beta>'"),
        ("data.max_length=512", "data.max_length=512 is above"),
        ("data.val_size=0.6", "must each be in (0, 1) and sum to less than 1"),
        ("data.resampling.strategy=smote", "Unknown data.resampling.strategy 'smote'"),
        ("data.resampling.every_epoch=often", "data.resampling.every_epoch must be true or false"),
        ("model.layer_decay=1.5", "model.layer_decay must be in (0, 1]"),
        ("model.logit_adjustment=-1", "model.logit_adjustment (tau) must be >= 0"),
        ("model.embedding_lr=0", "model.embedding_lr must be > 0"),
        ("model.frozen_body_epochs=-1", "model.frozen_body_epochs must be a whole number >= 0"),
        ("ckpt_path=/no/such.ckpt", "does not exist"),
    ],
)
def test_impossible_setting_fails_before_reading_data(compose_train_cfg, tmp_path, setting, fragment):
    """The data path does not exist: the setting's error coming first proves it is checked before any data work."""
    message = fails(compose_train_cfg(setting, "data.test_size=0.5", data_path=tmp_path / "absent.csv"),
                    ReviewClsError, fragment)
    assert "absent.csv" not in message


def test_alpha_of_the_wrong_length_fails_before_training(compose_train_cfg):
    fails(compose_train_cfg("model.alpha=[1.0,2.0]"), ConfigError, "model.alpha has 2 value(s) but there are 6 classes")


def test_preflight_refuses_an_architecture_for_pretrained_weights(compose_train_cfg) -> None:
    from review_cls.training.preflight import check_training_settings

    with pytest.raises(ConfigError, match="from_scratch=true"):
        check_training_settings(compose_train_cfg("model.architecture={num_hidden_layers: 1}"))
    check_training_settings(compose_train_cfg("model.architecture={num_hidden_layers: 1}", "model.from_scratch=true"))


@pytest.mark.parametrize(("setting", "fragments"), [
    ("+model.lrr=1e-4", ("Unknown model setting(s): model.lrr (did you mean model.lr?)", "Known: ", "weight_decay")),
    ("+model.foo=1", ("model.foo. Known: ",)),
])
def test_unknown_model_keys_are_refused_before_reading_data(compose_train_cfg, tmp_path, setting, fragments):
    message = fails(compose_train_cfg(setting, data_path=tmp_path / "absent.csv"), ConfigError, *fragments)
    assert "absent.csv" not in message


@pytest.mark.parametrize("value", ["-1", "0", "abc", "2.5", "null"])
def test_max_epochs_must_be_a_whole_number_from_1(compose_train_cfg, tmp_path, value):
    fails(compose_train_cfg(f"trainer.max_epochs={value}", data_path=tmp_path / "absent.csv"), ConfigError,
          "trainer.max_epochs must be a whole number >= 1", "train=false")
