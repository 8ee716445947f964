"""LightningModule: a BERT-family sequence classifier trained with focal loss, AdamW and linear warmup."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightning as L
import torch
from torchmetrics import MeanMetric

from review_cls.models.backbone import build_classifier
from review_cls.models.losses import AsymmetricLoss, FocalLoss, LogitAdjusted, SigmoidBCE, rdrop_penalty
from review_cls.models.optim import adamw_with_warmup
from review_cls.models.task import DEFAULT_THRESHOLD, task_of
from review_cls.models.threshold_choice import TunedOnValidation
from review_cls.models.tokenizer_checkpoint import TokenizerInCheckpoint
from review_cls.models.vocab_transfer import set_body_trainable

STAGES = ("train", "val", "test")


class ReviewClassifier(TokenizerInCheckpoint, L.LightningModule):
    """Holds only plain hyperparameters, so checkpoints reload with ``torch.load(weights_only=True)``.

    ``backbone_config`` is the encoder's config as a dict (labels included); ``pretrained`` names where the
    starting weights came from and is only read when ``init_from_pretrained`` is true (a fresh run, not a reload).
    ``max_length`` is the truncation length used in training, kept so inference truncates the same way. Every value
    comes from :func:`review_cls.models.factory.build_review_classifier` (the model config) or from a checkpoint.

    ``multilabel``: a sigmoid per label trained with ``BCEWithLogitsLoss`` (``alpha`` is then its ``pos_weight``);
    ``thresholds`` (one per label, chosen on validation after training: training/thresholds.py) live in the
    ``thresholds`` buffer, so ``trainer.test(ckpt_path=...)`` scores with the checkpoint's own. Validation metrics
    are at the thresholds each epoch's validation chooses (models/threshold_choice.py :class:`TunedOnValidation`), test
    metrics at the stored ones; both are also logged at a global 0.5 (``val/f1_macro_at_0.5``, ``test/...``).
    """

    def __init__(
        self,
        backbone_config: dict[str, Any],
        labels: Sequence[str],
        pretrained: str | None,
        init_from_pretrained: bool,
        max_length: int,
        lr: float,
        weight_decay: float,
        warmup_ratio: float,
        betas: Sequence[float],
        gamma: float,
        alpha: Sequence[float] | None,
        fused_optimizer: bool = True,  # checkpoints written before this setting existed used the fused step too
        # optional training levers; checkpoints written before they existed trained without them
        new_word_embeddings: bool = False,
        frozen_body_epochs: int = 0,
        embedding_lr: float | None = None,
        layer_decay: float = 1.0,
        logit_offsets: Sequence[float] | None = None,
        rdrop_alpha: float = 0.0,
        multilabel: bool = False,
        thresholds: Sequence[float] | None = None,
        asymmetric_loss: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__()
        # logger=False: the run logs its own flat HPARAMS with final metrics (reports/tensorboard.py)
        self.save_hyperparameters(logger=False)
        self.labels = list(labels)
        self.model = build_classifier(backbone_config, pretrained if init_from_pretrained else None,
                                      new_word_embeddings=new_word_embeddings)
        self.model.train()  # from_pretrained returns eval mode, and Lightning keeps submodule modes: dropout would be off
        self.task = task_of(multilabel)
        num_classes = len(self.labels)
        if multilabel:
            pos_weight = None if alpha is None else torch.as_tensor(list(alpha), dtype=torch.float32)
            self.loss_fn: torch.nn.Module = (SigmoidBCE(pos_weight=pos_weight) if asymmetric_loss is None
                                             else AsymmetricLoss(**asymmetric_loss, pos_weight=pos_weight))
            self.register_buffer("thresholds", torch.as_tensor(
                list(thresholds) if thresholds is not None else [DEFAULT_THRESHOLD] * num_classes, dtype=torch.float32))
            at_default = self.task.summary_metrics(num_classes)
            self.at_default = torch.nn.ModuleDict(
                {f"{stage}_": at_default.clone(prefix=f"{stage}/", postfix="_at_0.5") for stage in ("val", "test")})
            self.tuned = TunedOnValidation()
        else:
            self.loss_fn = FocalLoss(gamma=gamma, alpha=alpha)
            self.thresholds = self.at_default = self.tuned = None
        if logit_offsets is not None:
            self.loss_fn = LogitAdjusted(self.loss_fn, logit_offsets)
        summary = self.task.summary_metrics(num_classes)
        # keyed "<stage>_" because nn.Module already has a `train` attribute
        self.metrics = torch.nn.ModuleDict({f"{stage}_": summary.clone(prefix=f"{stage}/") for stage in STAGES})
        per_class = self.task.per_label_metrics(num_classes)
        self.per_class = torch.nn.ModuleDict({f"{stage}_": per_class.clone(prefix=f"{stage}/") for stage in ("val", "test")})
        # val/test loss as a torchmetrics mean: under DDP its sum and count add up over ranks exactly, uneven shards
        # included (Lightning's sync_dist averages an integer sample count and gets it wrong then)
        self.eval_loss = torch.nn.ModuleDict({f"{stage}_": MeanMetric() for stage in ("val", "test")})

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

    def _shared_step(self, batch: dict[str, torch.Tensor], stage: str) -> torch.Tensor:
        if stage == "train" and self.hparams.rdrop_alpha:
            logits, loss = self._rdrop_logits_and_loss(batch)
        else:
            logits = self(batch["input_ids"], batch["attention_mask"])
            loss = self.loss_fn(logits, batch["labels"])
        predictions = self.task.predictions(logits, self.thresholds)
        targets = self.task.targets(batch["labels"])
        batch_size = batch["labels"].shape[0]
        if self.at_default is not None and f"{stage}_" in self.at_default:
            self.at_default[f"{stage}_"].update(self.task.predictions(logits, DEFAULT_THRESHOLD), targets)
        if stage == "val" and self.tuned is not None:  # scored at the epoch's own thresholds once it has ended
            self.tuned.update(self.task.probabilities(logits), targets)
        else:
            self._update_metrics(stage, predictions, targets)
        if f"{stage}_" in self.eval_loss:
            self.eval_loss[f"{stage}_"].update(loss.detach(), weight=batch_size)
            self.log(f"{stage}/loss", self.eval_loss[f"{stage}_"], on_epoch=True, prog_bar=True)
        else:
            self.log(f"{stage}/loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=batch_size)
        return loss

    def _update_metrics(self, stage: str, predictions: torch.Tensor, targets: torch.Tensor) -> None:
        self.metrics[f"{stage}_"].update(predictions, targets)
        if f"{stage}_" in self.per_class:
            self.per_class[f"{stage}_"].update(predictions, targets)

    def _rdrop_logits_and_loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """R-Drop (models/losses.py): the batch twice in one forward pass, so each copy gets its own dropout mask; the
        loss is the mean of the two losses plus ``rdrop_alpha`` times their symmetric KL. The first copy's logits
        feed the training metrics."""
        logits = self(batch["input_ids"].repeat(2, 1), batch["attention_mask"].repeat(2, 1))
        first, second = logits.chunk(2)
        loss = (self.loss_fn(first, batch["labels"]) + self.loss_fn(second, batch["labels"])) / 2
        return first, loss + self.hparams.rdrop_alpha * rdrop_penalty(first, second)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._shared_step(batch, "train")

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._shared_step(batch, "val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._shared_step(batch, "test")

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        """Class probabilities (fp32) for each review of the batch; multi-label: one sigmoid per label."""
        return self.task.probabilities(self(batch["input_ids"], batch["attention_mask"]))

    def on_train_epoch_start(self) -> None:
        """Keep the transformer layers fixed for the first ``frozen_body_epochs`` (new embeddings learn first)."""
        if self.hparams.frozen_body_epochs:
            set_body_trainable(self.model, self.current_epoch >= self.hparams.frozen_body_epochs)

    def on_train_epoch_end(self) -> None:
        self._log_epoch_metrics("train")

    def on_validation_epoch_end(self) -> None:
        if self.tuned is not None:
            self._update_metrics("val", *self.tuned.predictions())
        self._log_epoch_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_epoch_metrics("test")

    def _log_epoch_metrics(self, stage: str) -> None:
        """Log the epoch's summary metrics and, for val/test, one scalar per class named after the label."""
        self.log_dict(self.metrics[f"{stage}_"].compute(), prog_bar=stage != "train")
        self.metrics[f"{stage}_"].reset()
        if self.at_default is not None and f"{stage}_" in self.at_default:
            self.log_dict(self.at_default[f"{stage}_"].compute())
            self.at_default[f"{stage}_"].reset()
        if f"{stage}_" not in self.per_class:
            return
        for name, values in self.per_class[f"{stage}_"].compute().items():
            self.log_dict({f"{name}/{label}": value for label, value in zip(self.labels, values)})
        self.per_class[f"{stage}_"].reset()

    def configure_optimizers(self) -> dict[str, Any]:
        """Layers frozen only for the first epochs are in the optimizer too: with no gradient AdamW skips them."""
        if self.hparams.frozen_body_epochs:
            set_body_trainable(self.model, True)  # on_train_epoch_start freezes it again while it should be
        return adamw_with_warmup(self, self.hparams.layer_decay, self.hparams.embedding_lr)
