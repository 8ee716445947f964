"""The data group as one settings object, checked when built (before any file is read): unknown keys with the
setting they resemble, the run's own keys left to the data module, and the split, batching and resampling checks."""

from __future__ import annotations

import pytest

from review_cls.data.datamodule import ReviewDataModule
from review_cls.data.data_settings import DataSettings, ResamplingSettings
from review_cls.errors import ConfigError
from tests.helpers import group_settings


def data_settings(**overrides) -> DataSettings:
    return DataSettings.from_config(group_settings("data", "demo") | overrides)


def test_the_group_becomes_settings_and_the_run_keys_go_to_the_data_module(tmp_path):
    values = group_settings("data", "demo", seed=7, output_dir=str(tmp_path), max_length=64)
    settings = DataSettings.from_config(values)
    assert isinstance(settings.resampling, ResamplingSettings) and settings.resampling.strategy == "none"
    assert (settings.max_length, settings.tokenizer, settings.prune_vocab) == (64, None, False)
    assert not hasattr(settings, "seed") and not hasattr(settings, "output_dir")
    module = ReviewDataModule.from_config(values)
    assert (module.settings, module.seed, module.output_dir) == (settings, 7, tmp_path)
    with pytest.raises(AttributeError):
        settings.max_length = 32  # frozen: built once, passed whole


@pytest.mark.parametrize(("overrides", "message"), [
    ({"max_lenght": 64}, "Unknown data setting(s): data.max_lenght (did you mean data.max_length?). Known: "),
    ({"resampling": {"strategy": "none", "sampling_strategy": "auto", "every_epoch": False, "every_epch": 1}},
     "data.resampling.every_epch (did you mean data.resampling.every_epoch?)"),
    ({"resampling": {"strategy": "none"}}, "lack data.resampling.sampling_strategy"),
])
def test_unknown_and_missing_keys_are_named(overrides, message):
    with pytest.raises(ConfigError) as caught:
        data_settings(**overrides)
    assert message in str(caught.value)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"max_length": 1}, "data.max_length must be a whole number >= 2"),
    ({"batch_size": 0}, "data.batch_size must be a whole number >= 1"),
    ({"eval_batch_size": 2.5}, "data.eval_batch_size must be a whole number >= 1"),
    ({"min_class_count": -1}, "data.min_class_count must be a whole number >= 0"),
    ({"group_by_length": "yes"}, "data.group_by_length must be true or false"),
    ({"val_size": 0.9}, "must each be in (0, 1) and sum to less than 1"),
    ({"split_paths": {"train": "a.csv"}}, "missing: ['val', 'test']"),
    ({"split_paths": {"train": "a.csv", "val": "b.csv", "test": "c.csv"}, "max_length": 1}, "data.max_length"),
    ({"resampling": {"strategy": "smote", "sampling_strategy": "auto", "every_epoch": False}}, "'smote'"),
    ({"tokenizer": "char_vocab:100", "prune_vocab": True}, "set model.prune_vocab=false"),
    ({"encoding": "klingon"}, "data.encoding='klingon'"),
])
def test_impossible_settings_are_refused_by_name(overrides, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        data_settings(**overrides)
