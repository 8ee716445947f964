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
from review_cls.models.module import ReviewClassifier
from review_cls.utils.hardware import resolve_precision


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


def check_max_epochs(max_epochs: Any) -> None:
    """A whole number >= 1: -1 (endless), 0 (an untrained model tested as if trained) and text are refused."""
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
        raise ConfigError(
            f"trainer.max_epochs must be a whole number >= 1, got {max_epochs!r}. To test a checkpoint without "
            "training, pass train=false ckpt_path=<checkpoint>."
        )


def check_accumulation(value: Any) -> None:
    """Batches per optimizer step: a whole number >= 1 (0 divides by zero inside Lightning)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(f"trainer.accumulate_grad_batches must be a whole number >= 1, got {value!r}.")


def build_trainer(cfg: DictConfig, callbacks: list[L.Callback], loggers: list[Any]) -> L.Trainer:
    """The Trainer from config, with ``precision: auto`` resolved for the hardware at hand."""
    trainer_cfg = OmegaConf.to_container(cfg.trainer, resolve=True)
    check_max_epochs(trainer_cfg.get("max_epochs"))
    check_accumulation(trainer_cfg.get("accumulate_grad_batches"))
    trainer_cfg["precision"] = resolve_precision(trainer_cfg["precision"], trainer_cfg["accelerator"])
    try:
        return instantiate(trainer_cfg, callbacks=callbacks, logger=loggers or False)
    except InstantiationException as exc:
        raise ConfigError(
            f"The trainer settings are not usable: {exc.__cause__ or exc}. Check the trainer.* overrides "
            "(precision, accelerator, devices, strategy)."
        ) from exc


def build_datamodule(cfg: DictConfig) -> ReviewDataModule:
    datamodule: ReviewDataModule = instantiate(cfg.data)
    datamodule.setup("fit")
    return datamodule


def build_model(cfg: DictConfig, datamodule: ReviewDataModule) -> ReviewClassifier:
    model: ReviewClassifier = instantiate(cfg.model)(
        labels=datamodule.labels, train_label_ids=datamodule.train_label_ids, max_length=datamodule.max_length,
        vocab_size=len(datamodule.tokenizer), token_vocab=datamodule.tokenizer.get_vocab(),
        multilabel=datamodule.multilabel,
    )
    model.tokenizer_files = tokenizer_files(datamodule.tokenizer)
    return model
