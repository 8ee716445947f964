"""LightningModule: a BERT-family sequence classifier trained with the configured loss (models/losses.py), AdamW and
linear warmup."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightning as L
import torch
from torchmetrics import MeanMetric
from transformers import PreTrainedModel

from review_cls.models.backbone import build_classifier
from review_cls.models.losses import RDrop, build_loss
from review_cls.models.optim import OptimizerSettings, adamw_with_warmup
from review_cls.models.task import DEFAULT_THRESHOLD, task_of_config
from review_cls.models.threshold_choice import TunedOnValidation
from review_cls.models.tokenizer_checkpoint import TokenizerInCheckpoint
from review_cls.models.vocab_transfer import set_body_trainable
from review_cls.utils.settings import field_names

STAGES = ("train", "val", "test")


class ReviewClassifier(TokenizerInCheckpoint, L.LightningModule):
    """Holds only plain hyperparameters, so checkpoints reload with ``torch.load(weights_only=True)``.

    ``backbone_config`` is the encoder's config as a dict (labels and ``problem_type``, the task, included);
    ``max_length`` is the truncation length used in training, kept so inference truncates the same way;
    ``optimizer`` holds :class:`~review_cls.models.optim.OptimizerSettings`' values and ``loss`` the loss values
    :func:`~review_cls.models.losses.loss_hyperparameters` resolved on the training split; ``pretrained`` names where
    the starting weights came from. :func:`review_cls.models.factory.build_review_classifier` passes them from the
    model settings with ``model``, the Hugging Face classifier it built; without it (a checkpoint being reloaded)
    the classifier is built from ``backbone_config`` and the checkpoint's weights fill it.

    Multi-label (``problem_type``): a sigmoid per label trained with ``BCEWithLogitsLoss`` (``alpha`` is then its
    ``pos_weight``); ``thresholds`` (one per label, chosen on validation after training:
    training/checkpoint_thresholds.py) live in the ``thresholds`` buffer, so ``trainer.test(ckpt_path=...)`` scores
    with the checkpoint's own. Validation metrics are at the thresholds each epoch's validation chooses
    (models/threshold_choice.py :class:`TunedOnValidation`), test metrics at the stored ones; both are also logged at
    a global 0.5 (``val/f1_macro_at_0.5``, ``test/...``).
    """

    def __init__(
        self,
        backbone_config: dict[str, Any],
        labels: Sequence[str],
        max_length: int,
        optimizer: Mapping[str, Any],
        loss: Mapping[str, Any],
        pretrained: str | None = None,
        thresholds: Sequence[float] | None = None,
        model: PreTrainedModel | None = None,
    ) -> None:
        super().__init__()
        # logger=False: the run logs its own flat HPARAMS with final metrics (reports/tensorboard.py)
        self.save_hyperparameters(ignore="model", logger=False)
        self.labels = list(labels)
        self.optimizer_settings = OptimizerSettings(**optimizer)
        self.model = model if model is not None else build_classifier(backbone_config, None)
        self.model.train()  # from_pretrained returns eval mode, and Lightning keeps submodule modes: dropout would be off
        self.task = task_of_config(backbone_config)
        num_classes = len(self.labels)
        self.loss_fn = build_loss(loss, self.task.multilabel)
        if self.task.multilabel:
            self.register_buffer("thresholds", torch.as_tensor(
                list(thresholds) if thresholds is not None else [DEFAULT_THRESHOLD] * num_classes, dtype=torch.float32))
            at_default = self.task.summary_metrics(num_classes)
            self.at_default = torch.nn.ModuleDict(
                {f"{stage}_": at_default.clone(prefix=f"{stage}/", postfix="_at_0.5") for stage in ("val", "test")})
            self.tuned = TunedOnValidation()
        else:
            self.thresholds = self.at_default = self.tuned = None
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
        logits, loss = self._logits_and_loss(batch, stage)
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

    def _logits_and_loss(self, batch: dict[str, torch.Tensor], stage: str) -> tuple[torch.Tensor, torch.Tensor]:
        """One pass, scored by the loss; in training with R-Drop (models/losses.py :class:`RDrop`) the batch twice in
        one forward pass, so each copy gets its own dropout mask, and the first copy's logits feed the metrics."""
        input_ids, attention_mask, labels = batch["input_ids"], batch["attention_mask"], batch["labels"]
        if isinstance(self.loss_fn, RDrop):
            if stage == "train":
                logits = self(input_ids.repeat(2, 1), attention_mask.repeat(2, 1))
                return logits.chunk(2)[0], self.loss_fn(logits, labels)
            logits = self(input_ids, attention_mask)
            return logits, self.loss_fn.per_pass(logits, labels)
        logits = self(input_ids, attention_mask)
        return logits, self.loss_fn(logits, labels)

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
        frozen_epochs = self.optimizer_settings.frozen_body_epochs
        if frozen_epochs:
            set_body_trainable(self.model, self.current_epoch >= frozen_epochs)

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
        if self.optimizer_settings.frozen_body_epochs:
            set_body_trainable(self.model, True)  # on_train_epoch_start freezes it again while it should be
        return adamw_with_warmup(self, self.optimizer_settings)


# what a checkpoint written before the optimizer settings became one group trained with where it lacks a key
FLAT_OPTIMIZER_DEFAULTS = {"fused_optimizer": True, "layer_decay": 1.0, "embedding_lr": None, "frozen_body_epochs": 0}
FLAT_LOSS_KEYS = ("gamma", "alpha", "logit_offsets", "rdrop_alpha", "asymmetric_loss")
# what only building the first model needed: the weights come from the checkpoint, the task from problem_type
FLAT_BUILD_KEYS = ("init_from_pretrained", "new_word_embeddings", "multilabel")


def upgraded_hyperparameters(saved: Mapping[str, Any]) -> dict[str, Any]:
    """A checkpoint's hyperparameters as :class:`ReviewClassifier` takes them. Checkpoints written before the module
    took its optimizer and loss settings as two groups hold them flat (``lr``, ``gamma``, ``logit_offsets``...), with
    the keys of :data:`FLAT_BUILD_KEYS`; mapped here, so predict, evaluate, export and the model card keep reading
    them. Today's checkpoints come back unchanged."""
    if "loss" in saved:
        return dict(saved)
    flat = {key: value for key, value in saved.items() if key not in FLAT_BUILD_KEYS}
    optimizer = FLAT_OPTIMIZER_DEFAULTS | {key: flat.pop(key) for key in field_names(OptimizerSettings) if key in flat}
    loss = {key: flat.pop(key) for key in FLAT_LOSS_KEYS if key in flat}
    return flat | {"optimizer": optimizer, "loss": loss}
