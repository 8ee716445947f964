"""model.pooling=mean: the classifier reads the masked mean of the last hidden states, padding ignored, and the
choice travels through checkpoints, export folders and ONNX."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import RobertaConfig, RobertaForSequenceClassification

from review_cls.errors import ConfigError
from review_cls.inference.checkpoints import load_classifier
from review_cls.inference.export_folder import export_model
from review_cls.inference.onnx_runtime import load_onnx_predictor
from review_cls.inference.predictor import load_exported, predict_probabilities
from review_cls.models.backbone import backbone_config, build_classifier
from review_cls.models.pooling import MaskedMeanPooler, apply_classifier_pooling
from review_cls.models.pretrained import load_tokenizer
from tests.helpers import fails, tiny_train_cfg

TEXTS = ["the app crashes on login", "late parcel", "refund please, the card payment failed twice and again"]


def tiny_classifier(tiny_bert_dir: Path, pooling: str):
    config = backbone_config(str(tiny_bert_dir), 3, {0: "bug", 1: "delivery", 2: "price"}, dropout=None)
    torch.manual_seed(0)
    return build_classifier(config | {"classifier_pooling": pooling}, str(tiny_bert_dir)).eval()


def logits_of(model, tokenizer, texts: list[str]) -> torch.Tensor:
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits


def test_mean_pooling_reads_the_masked_mean_of_the_last_hidden_states(tiny_bert_dir):
    model = tiny_classifier(tiny_bert_dir, "mean")
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model.bert(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        mean = (hidden * mask).sum(1) / mask.sum(1)
        expected = model.classifier(torch.tanh(model.bert.pooler.dense(mean)))
    torch.testing.assert_close(logits_of(model, tokenizer, TEXTS), expected)


def test_padding_does_not_move_a_reviews_scores_and_cls_differs(tiny_bert_dir):
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    mean = tiny_classifier(tiny_bert_dir, "mean")
    alone = logits_of(mean, tokenizer, TEXTS[1:2])
    padded = logits_of(mean, tokenizer, TEXTS)[1:2]  # the short review padded to the longest one
    torch.testing.assert_close(padded, alone, atol=1e-5, rtol=1e-5)
    cls = tiny_classifier(tiny_bert_dir, "cls")  # same weights, [CLS] read instead
    assert not isinstance(cls.bert.pooler, MaskedMeanPooler)
    assert not torch.allclose(logits_of(cls, tokenizer, TEXTS[1:2]), alone, atol=1e-4)


def test_the_weight_names_stay_those_of_bert(tiny_bert_dir):
    names = set(tiny_classifier(tiny_bert_dir, "mean").state_dict())
    assert names == set(tiny_classifier(tiny_bert_dir, "cls").state_dict())


@pytest.fixture(scope="module")
def mean_checkpoint(tiny_bert_dir, small_reviews_csv, tmp_path_factory) -> Path:
    from review_cls.jobs.train import run_training

    out_dir = tmp_path_factory.mktemp("mean_run")
    run_training(tiny_train_cfg(tiny_bert_dir, small_reviews_csv, out_dir, "model.pooling=mean", "trainer.max_epochs=1"))
    return out_dir / "checkpoints" / "last.ckpt"


def test_checkpoint_export_and_onnx_keep_mean_pooling(mean_checkpoint, tmp_path):
    model, tokenizer = load_classifier(mean_checkpoint)
    assert isinstance(model.model.bert.pooler, MaskedMeanPooler)
    expected = predict_probabilities(model, tokenizer, TEXTS, model.hparams.max_length, 2)
    folder = export_model(mean_checkpoint, tmp_path / "model", export_format="onnx")
    assert json.loads((folder / "config.json").read_text())["classifier_pooling"] == "mean"
    card = (folder / "README.md").read_text()
    assert "review_cls.predict ckpt_path=" in card and "pipeline(\"text-classification\"" not in card
    exported = load_exported(folder)
    np.testing.assert_allclose(exported.predict_probabilities(TEXTS, 2), expected, atol=1e-5)
    np.testing.assert_allclose(load_onnx_predictor(folder).predict_probabilities(TEXTS, 2), expected, atol=1e-5)


def test_unknown_pooling_and_encoders_without_a_pooler_are_config_errors(compose_train_cfg):
    fails(compose_train_cfg("model.pooling=max"), ConfigError, "model.pooling", "max")
    roberta = RobertaForSequenceClassification(RobertaConfig(
        vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37,
        classifier_pooling="mean"))
    with pytest.raises(ConfigError, match="model.pooling=cls"):
        apply_classifier_pooling(roberta)
