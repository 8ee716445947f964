"""The offline default encoder: loaded with our labels and dropout."""

import torch

from review_cls.models.backbone import backbone_config, build_classifier
from review_cls.models.pretrained import load_tokenizer

PACKAGED = "packaged:all-MiniLM-L6-v2"


def test_packaged_minilm_loads_offline_with_our_labels_and_dropout(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    labels = ["bug", "delivery", "pricing"]
    config = backbone_config(PACKAGED, 3, dict(enumerate(labels)), dropout=0.3)
    assert config["num_hidden_layers"] == 6 and config["hidden_size"] == 384
    assert config["hidden_dropout_prob"] == config["attention_probs_dropout_prob"] == 0.3
    model = build_classifier(config, PACKAGED)
    assert model.config.id2label == {0: "bug", 1: "delivery", 2: "pricing"}
    encoder_weight = model.bert.embeddings.word_embeddings.weight
    assert encoder_weight.std() > 0.01  # pretrained weights, not a fresh init of 0.02 * N(0, 1) everywhere
    tokenizer = load_tokenizer(PACKAGED)
    batch = tokenizer(["the app crashes"], return_tensors="pt")
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    assert logits.shape == (1, 3)
