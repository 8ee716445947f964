"""The ``review_cls.pretrain`` job: continued masked-LM pretraining on a file's review texts, written as a Hugging
Face folder (``<run>/pretrained_model``) that ``model.pretrained=<folder>`` fine-tunes from."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from review_cls.data.datamodule import ReviewDataModule
from review_cls.data.pretraining import MaskedReviewsDataModule, pretraining_texts
from review_cls.data.tokenizers import tokenizer_files, tokenizer_for
from review_cls.errors import ConfigError
from review_cls.models.masked_lm import MaskedLanguageModel, save_encoder_folder
from review_cls.models.model_settings import ModelSettings
from review_cls.training.builders import build_trainer, instantiate_callbacks, instantiate_loggers
from review_cls.training.interrupts import best_checkpoint, fit_or_interrupt, stop
from review_cls.training.preflight import check_pretraining_settings, prepare_run
from review_cls.utils.atomic import atomic_dir

log = logging.getLogger(__name__)
FOLDER = "pretrained_model"


def run_pretraining(cfg: DictConfig) -> dict[str, float]:
    """Pretrain, then write the best checkpoint (lowest held-out masked-LM loss) as a Hugging Face folder."""
    ckpt_path = prepare_run(cfg, check_pretraining_settings)
    reviews = ReviewDataModule.from_config(cfg.data)
    texts = pretraining_texts(reviews)
    tokenizer = tokenizer_for(reviews.tokenizer_source, texts)
    data = reviews.settings
    datamodule = MaskedReviewsDataModule(
        texts, tokenizer, data.max_length, data.batch_size, data.eval_batch_size, int(cfg.seed),
        float(cfg.mlm.holdout), float(cfg.mlm.probability), data.group_by_length,
    )
    datamodule.setup("fit")  # texts with nothing to mask stop here, before the Trainer writes anything
    model: MaskedLanguageModel = instantiate(cfg.mlm.module)(ModelSettings.from_config(cfg.model),
                                                             vocab_size=len(tokenizer))
    model.tokenizer_files = tokenizer_files(tokenizer)
    trainer = build_trainer(cfg, instantiate_callbacks(cfg.get("callbacks")), instantiate_loggers(cfg.get("logger")))
    interrupted = fit_or_interrupt(trainer, model, datamodule, ckpt_path)
    best = best_checkpoint(trainer)
    if not best:
        raise ConfigError("Pretraining wrote no checkpoint (callbacks.model_checkpoint is off?): nothing to save.")
    metrics = {name: float(value) for name, value in trainer.callback_metrics.items()}
    if trainer.is_global_zero:
        folder = Path(cfg.paths.output_dir) / FOLDER
        write_pretrained_folder(model, best, folder, tokenizer)
        print(f"pretrained encoder (held-out masked-LM loss {trainer.checkpoint_callback.best_model_score:.4f}) -> "
              f"{folder}\nfine-tune it: python -m review_cls.train model.pretrained={folder} data=...")
    if interrupted:
        name, code = interrupted  # SIGTERM exits 143 as training does, Ctrl+C 130
        stop(f"Pretraining was interrupted ({name}) at epoch {trainer.current_epoch}; the best checkpoint so far "
             f"({best}) was saved as {FOLDER}/. Resume with ckpt_path=last.", code)
    return metrics


def write_pretrained_folder(model: MaskedLanguageModel, checkpoint: str, folder: Path, tokenizer) -> None:
    """The best checkpoint's weights and the tokenizer (a char vocab travels with it) as one folder, atomically."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    model.load_state_dict(state)
    with atomic_dir(folder) as temporary:
        save_encoder_folder(model.model, temporary,
                            model.hparams.pretrained if model.hparams.init_from_pretrained else None)
        tokenizer.save_pretrained(temporary)
    log.info("Pretrained encoder written to %s", folder)
