"""What a run is built from, each from its config group: the callbacks, the loggers, the Trainer (its settings checked
first), the data module and the model. Shared by train, pretrain and audit."""

from __future__ import annotations

from typing import Any

import lightning as L
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from review_cls.data.datamodule import ReviewDataModule
from review_cls.data.tokenizers import tokenizer_files
from review_cls.errors import ConfigError
from review_cls.models.factory import build_review_classifier
from review_cls.models.module import ReviewClassifier
from review_cls.models.model_settings import ModelSettings
from review_cls.utils.hardware import resolve_precision
from review_cls.utils.settings import whole_number


def instantiate_callbacks(callbacks_cfg: DictConfig | None) -> list[L.Callback]:
    """Every entry with a ``_target_`` under ``callbacks`` becomes a callback; ``null`` entries switch one off."""
    return [instantiate(entry) for entry in (callbacks_cfg or {}).values() if entry and "_target_" in entry]


def instantiate_loggers(logger_cfg: DictConfig | None) -> list[Any]:
    """The configured loggers; one that cannot start (its package missing, its store damaged) is a ConfigError
    naming the logger and its store, before the run writes anything."""
    loggers = []
    for name, entry in (logger_cfg or {}).items():
        if not entry or "_target_" not in entry:
            continue
        try:
            loggers.append(instantiate(entry))
        except Exception as exc:  # noqa: BLE001 - any logger's failure to start, stated once
            raise ConfigError(logger_failure(str(name), entry, exc.__cause__ or exc)) from exc
    return loggers


def logger_failure(name: str, entry: DictConfig, cause: BaseException) -> str:
    if isinstance(cause, ImportError):
        return (f"logger.{name} ({entry._target_}) needs a package that is not installed ({cause}): install it "
                f"(logger=mlflow: pip install -e \".[mlflow]\"; logger=wandb: pip install wandb) or choose another "
                "logger (logger=tensorboard, csv, mlflow, many, wandb).")
    store = entry.get("tracking_uri") or entry.get("save_dir") or entry.get("dir")
    where = f" Its store is {store}: if that file or folder is damaged, move it away or set paths.log_dir." if store \
        else ""
    return f"logger.{name} ({entry._target_}) could not start: {type(cause).__name__}: {cause}.{where}"


def trainer_arguments(trainer_cfg: DictConfig, without_training: str = "") -> dict[str, Any]:
    """The trainer group, checked, as the Trainer's arguments: ``max_epochs`` a whole number >= 1 (-1 trains
    endlessly, 0 tests an untrained model as if trained), ``accumulate_grad_batches`` one too (0 divides by zero
    inside Lightning), and ``precision: auto`` resolved for the hardware at hand. ``without_training``: the
    command's own way to skip training, named beside a ``max_epochs`` of 0."""
    arguments = OmegaConf.to_container(trainer_cfg, resolve=True)
    max_epochs = arguments.get("max_epochs")
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
        raise ConfigError(
            f"trainer.max_epochs must be a whole number >= 1, got {max_epochs!r}.{without_training}"
        )
    if arguments.get("accumulate_grad_batches") is not None:
        whole_number(arguments, "accumulate_grad_batches", 1, "trainer.")
    arguments["precision"] = resolve_precision(arguments["precision"], arguments["accelerator"])
    return arguments


def build_trainer(cfg: DictConfig, callbacks: list[L.Callback], loggers: list[Any]) -> L.Trainer:
    """The Trainer from the trainer group (:func:`trainer_arguments`), with the run's callbacks and loggers."""
    # only train has a train switch: audit's and pretrain's trainers have nothing to test without training
    skip = " To test a checkpoint without training, pass train=false ckpt_path=<checkpoint>." if "train" in cfg else ""
    arguments = trainer_arguments(cfg.trainer, skip)
    try:
        return instantiate(arguments, callbacks=callbacks, logger=loggers or False)
    except InstantiationException as exc:
        raise ConfigError(
            f"The trainer settings are not usable: {exc.__cause__ or exc}. Check the trainer.* overrides "
            "(precision, accelerator, devices, strategy)."
        ) from exc


def build_datamodule(cfg: DictConfig) -> ReviewDataModule:
    """The data module of the data group, its data read, split and tokenized."""
    datamodule = ReviewDataModule.from_config(cfg.data)
    datamodule.setup("fit")
    return datamodule


def build_model(cfg: DictConfig, datamodule: ReviewDataModule) -> ReviewClassifier:
    """The classifier of the model group for the data's labels, class counts and tokenizer, which it carries."""
    tokenizer = datamodule.tokenizer
    model = build_review_classifier(
        ModelSettings.from_config(cfg.model), datamodule.labels, datamodule.train_label_ids,
        datamodule.settings.max_length, datamodule.multilabel, len(tokenizer), tokenizer.get_vocab(),
    )
    model.tokenizer_files = tokenizer_files(tokenizer)
    return model
