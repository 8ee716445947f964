"""Building a run from its config groups: callbacks (null ones off), loggers that cannot start, the Trainer with its
settings checked, and the model carrying its tokenizer. Nothing is fitted."""

from __future__ import annotations

import lightning as L
import pytest
from hydra import compose, initialize_config_dir
from lightning.pytorch.callbacks import EarlyStopping, TQDMProgressBar
from omegaconf import OmegaConf, open_dict

from review_cls.data.tokenizers import tokenizer_from_files
from review_cls.errors import ConfigError
from review_cls.training.builders import (
    build_datamodule,
    build_model,
    build_trainer,
    instantiate_callbacks,
    instantiate_loggers,
    logger_failure,
    trainer_arguments,
)
from review_cls.training.callbacks import FiniteLoss, ResumableModelCheckpoint
from tests.helpers import CONF_DIR


def test_every_configured_callback_is_built_and_a_null_one_is_switched_off(compose_train_cfg):
    callbacks = instantiate_callbacks(compose_train_cfg().callbacks)  # the tiny config sets progress_bar=null
    kinds = [type(callback) for callback in callbacks]
    assert kinds.count(ResumableModelCheckpoint) == 2
    assert EarlyStopping in kinds and FiniteLoss in kinds
    assert TQDMProgressBar not in kinds
    assert instantiate_callbacks(None) == []
    assert instantiate_callbacks(OmegaConf.create({"plain": {"patience": 3}, "off": None})) == []


def test_the_trainer_is_built_from_config_with_auto_precision_resolved(compose_train_cfg):
    cfg = compose_train_cfg("trainer.precision=auto")
    callbacks = instantiate_callbacks(cfg.callbacks)
    trainer = build_trainer(cfg, callbacks, instantiate_loggers(cfg.logger))
    assert isinstance(trainer, L.Trainer)
    assert trainer.max_epochs == 2 and trainer.precision == "32-true"
    assert trainer.min_epochs == cfg.trainer.min_epochs == 8  # early stopping waits for it
    assert all(callback in trainer.callbacks for callback in callbacks)
    assert trainer.loggers and not build_trainer(cfg, [], []).loggers


@pytest.mark.parametrize(("experiment", "epochs", "first_stop"), [(None, 12, 8), ("chinese", 4, 1), ("char_bert", 8, 1)])
def test_each_default_trains_for_the_epochs_it_was_measured_with(experiment, epochs, first_stop):
    """The English default's linear decay runs to 12 epochs and early stopping waits for the 8th; the Chinese
    experiments keep their own schedules, early stopping from the first epoch."""
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="train", overrides=[f"+experiment={experiment}"] if experiment else [])
    assert cfg.trainer.max_epochs == epochs
    assert cfg.callbacks.early_stopping.patience == 3
    assert cfg.trainer.min_epochs == first_stop


@pytest.mark.parametrize(("override", "fragment"), [
    ("trainer.max_epochs=0", r"trainer.max_epochs must be a whole number >= 1, got 0. To test a checkpoint without "
                             "training, pass train=false"),
    ("trainer.accumulate_grad_batches=0", "trainer.accumulate_grad_batches must be a whole number >= 1, got 0"),
    ("trainer.precision=banana", "The trainer settings are not usable"),
])
def test_unusable_trainer_settings_are_refused_by_name(compose_train_cfg, override: str, fragment: str):
    with pytest.raises(ConfigError, match=fragment):
        build_trainer(compose_train_cfg(override), [], [])


def test_a_command_without_a_train_switch_is_not_advised_to_use_one(compose_train_cfg):
    cfg = compose_train_cfg("trainer.max_epochs=0")
    with open_dict(cfg):
        del cfg["train"]  # as audit's and pretrain's configs, which have no train switch
    with pytest.raises(ConfigError, match=r"got 0\.$"):
        build_trainer(cfg, [], [])


def test_epoch_and_accumulation_counts_must_be_whole_numbers_from_one(compose_train_cfg):
    trainer = compose_train_cfg("trainer.precision=auto").trainer
    for bad in (-1, 0, True, "3", 2.0):
        with pytest.raises(ConfigError, match="trainer.max_epochs"):
            trainer_arguments(changed(trainer, max_epochs=bad))
        with pytest.raises(ConfigError, match="trainer.accumulate_grad_batches"):
            trainer_arguments(changed(trainer, accumulate_grad_batches=bad))
    for good in (None, 4):
        arguments = trainer_arguments(changed(trainer, max_epochs=1, accumulate_grad_batches=good))
        assert (arguments["max_epochs"], arguments["accumulate_grad_batches"]) == (1, good)
        assert arguments["precision"] == "32-true"  # auto, on a CPU


def changed(trainer, **values):
    copy = trainer.copy()
    for key, value in values.items():
        copy[key] = value
    return copy


def test_a_logger_that_cannot_start_is_a_config_error_naming_it_and_its_store(tmp_path):
    missing = OmegaConf.create({"remote": {"_target_": "no_such_logger_package.Logger"}})
    with pytest.raises(ConfigError, match=r"logger.remote \(no_such_logger_package.Logger\) needs a package"):
        instantiate_loggers(missing)
    entry = OmegaConf.create({"_target_": "x.Logger", "tracking_uri": f"sqlite:///{tmp_path}/mlflow.db"})
    message = logger_failure("mlflow", entry, ValueError("database is locked"))
    assert message.startswith("logger.mlflow (x.Logger) could not start: ValueError: database is locked.")
    assert f"Its store is sqlite:///{tmp_path}/mlflow.db" in message
    assert "Its store" not in logger_failure("csv", OmegaConf.create({"_target_": "x.Csv"}), OSError("full"))


def test_the_model_is_built_for_the_datas_labels_and_carries_its_tokenizer(compose_train_cfg):
    cfg = compose_train_cfg()
    datamodule = build_datamodule(cfg)
    model = build_model(cfg, datamodule)
    assert model.labels == datamodule.labels
    assert model.model.config.num_labels == len(datamodule.labels)
    carried = tokenizer_from_files(model.tokenizer_files)
    text = "the app crashes after the update"
    assert carried(text)["input_ids"] == datamodule.tokenizer(text)["input_ids"]
