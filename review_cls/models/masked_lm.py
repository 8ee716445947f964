"""LightningModule for continued pretraining: masked-LM on unlabeled reviews (Gururangan et al. 2020), so the encoder
learns the words of app reviews before it learns their categories."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torchmetrics import MeanMetric
from transformers import AutoModelForMaskedLM, PreTrainedModel

from review_cls.models.backbone import encoder_config, load_model, with_dropout
from review_cls.models.factory import check_vocab_size
from review_cls.models.optim import OptimizerSettings, adamw_with_warmup
from review_cls.models.pretrained import resolve_pretrained
from review_cls.models.model_settings import ModelSettings
from review_cls.models.tokenizer_checkpoint import TokenizerInCheckpoint

# the attribute holding the masked-LM head: BERT-family, RoBERTa-family
MLM_HEADS = ("cls", "lm_head")


class MaskedLanguageModel(TokenizerInCheckpoint, L.LightningModule):
    """Holds only plain hyperparameters, so checkpoints reload with ``torch.load(weights_only=True)``.

    ``train_only_embeddings`` freezes the transformer body: the first stage of vocabulary transfer (Artetxe et al.
    2020), where a fresh embedding matrix for a new vocab learns to speak to a pretrained body before both are tuned.
    """

    def __init__(
        self,
        backbone_config: dict[str, Any],
        pretrained: str | None,
        init_from_pretrained: bool,
        optimizer: Mapping[str, Any],
        train_only_embeddings: bool,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)
        self.optimizer_settings = OptimizerSettings(**optimizer)
        self.model = load_masked_lm(backbone_config, pretrained if init_from_pretrained else None)
        self.model.train()  # from_pretrained returns eval mode: dropout would be off
        if train_only_embeddings:
            self.model.requires_grad_(False)
            self.model.get_input_embeddings().requires_grad_(True)
        self.val_loss = MeanMetric()

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor | None:
        if not masked_tokens(batch):
            return None  # a batch of very short texts can draw no mask: no loss to learn from, skip the step
        loss = masked_lm_loss(self.model, batch)
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=batch["labels"].shape[0])
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        # weighted by masked tokens: the held-out loss is a per-token mean whatever the batch composition
        if masked_tokens(batch):
            self.val_loss.update(masked_lm_loss(self.model, batch), weight=masked_tokens(batch))

    def on_validation_epoch_end(self) -> None:
        loss = self.val_loss.compute()
        self.log_dict({"val/loss": loss, "val/perplexity": loss.exp()}, prog_bar=True)
        self.val_loss.reset()

    def configure_optimizers(self) -> dict[str, Any]:
        return adamw_with_warmup(self, self.optimizer_settings)


def masked_lm_loss(model: PreTrainedModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The masked-LM loss with the vocab projection run on the masked tokens only.

    ``model(**batch).loss`` scores every position against the whole vocab and then ignores 85% of them; for a small
    encoder that projection costs as much as the encoder itself (MiniLM: 30,522 x 384 per token against ~10M
    multiply-adds for its 6 layers). The result is the same loss (a test compares both).
    """
    head = next((getattr(model, name) for name in MLM_HEADS if hasattr(model, name)), None)
    if head is None:
        return model(**batch).loss
    labels = batch["labels"]
    hidden = model.base_model(**{key: value for key, value in batch.items() if key != "labels"}).last_hidden_state
    targets = labels != -100
    return F.cross_entropy(head(hidden[targets]).float(), labels[targets])


def masked_tokens(batch: dict[str, torch.Tensor]) -> int:
    """How many tokens of the batch carry a masked-LM target (the rest are labelled -100 and ignored)."""
    return int((batch["labels"] != -100).sum())


def build_masked_lm_module(
    settings: ModelSettings, vocab_size: int, new_embeddings: bool, train_only_embeddings: bool
) -> MaskedLanguageModel:
    """Load the masked-LM once, sized for the tokenizer; the model settings were checked before any data was read
    (review_cls/training/preflight.py), only the tokenizer's size needs the data.

    ``new_embeddings`` keeps ``pretrained``'s body and gives the tokenizer (e.g. ``char_vocab:6000``) a fresh embedding
    matrix; ``from_scratch`` takes only the architecture (reshaped by ``architecture``) and starts from random weights.
    Every layer trains at ``model.lr``: the fine-tuning levers (``layer_decay``, ``embedding_lr``,
    ``frozen_body_epochs``) do not apply to pretraining.
    """
    config = with_dropout(encoder_config(settings.pretrained), settings.dropout).to_dict()
    if new_embeddings or settings.from_scratch:
        config["vocab_size"] = vocab_size
    check_vocab_size(vocab_size, config.get("vocab_size"), settings.from_scratch, settings.pretrained)
    config.update(settings.architecture or {})
    optimizer = dataclasses.replace(settings.optimizer, layer_decay=1.0, embedding_lr=None, frozen_body_epochs=0)
    return MaskedLanguageModel(
        backbone_config=config, pretrained=settings.pretrained, init_from_pretrained=not settings.from_scratch,
        optimizer=dataclasses.asdict(optimizer), train_only_embeddings=train_only_embeddings,
    )


def load_masked_lm(config_dict: dict[str, Any], pretrained: str | None) -> PreTrainedModel:
    """A masked-LM model from a plain config dict; with ``pretrained`` its body's weights are loaded. Weights whose
    shape the config changed (a new vocab's embedding matrix) start fresh, as does the MLM head when the checkpoint
    has none (all-MiniLM-L6-v2 ships only the encoder)."""
    return load_model(AutoModelForMaskedLM, config_dict, pretrained, ignore_mismatched_sizes=True)


def save_encoder_folder(model: PreTrainedModel, folder: Path, pretrained: str | None) -> None:
    """Write the pretrained encoder as a Hugging Face folder that ``model.pretrained=<folder>`` fine-tunes from.

    A masked-LM model has no pooler, which BERT's sequence classifier reads: the starting checkpoint's pooler is
    carried over when it has one, so fine-tuning from the folder starts where fine-tuning from ``pretrained`` would.
    """
    state = {name: tensor.contiguous() for name, tensor in model.state_dict().items()}
    state.update(_pooler_weights(pretrained, model.base_model_prefix))
    model.save_pretrained(folder, state_dict=state)


def _pooler_weights(pretrained: str | None, prefix: str) -> dict[str, torch.Tensor]:
    if pretrained is None:
        return {}
    from safetensors.torch import load_file

    files = sorted(Path(resolve_pretrained(pretrained)).glob("*.safetensors"))
    weights = {name: tensor for file in files for name, tensor in load_file(file).items() if ".pooler." in f".{name}"}
    return {name if name.startswith(f"{prefix}.") else f"{prefix}.{name}": tensor for name, tensor in weights.items()}
