"""The offline default encoder, encoder swapping and hardware-dependent precision."""

import pytest
import torch

from review_cls.data.tokenizers import (
    load_tokenizer,
    tokenizer_files,
    tokenizer_from_files,
)
from review_cls.errors import ConfigError
from review_cls.models.backbone import backbone_config, build_classifier
from review_cls.models.factory import build_review_classifier
from review_cls.utils.hardware import resolve_precision
from review_cls.utils.pretrained import resolve_pretrained

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


def test_hub_names_and_folders_pass_through_and_unknown_packaged_fails():
    assert resolve_pretrained("bert-base-chinese") == "bert-base-chinese"
    assert resolve_pretrained("/models/mine") == "/models/mine"
    with pytest.raises(ConfigError, match="Unknown packaged model"):
        resolve_pretrained("packaged:nope")


def test_unreachable_model_names_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="model=minilm"):
        load_tokenizer(str(tmp_path / "missing_model"))


def test_tokenizer_travels_as_plain_text(tiny_bert_dir):
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    files = tokenizer_files(tokenizer)
    assert all(isinstance(text, str) for text in files.values())
    rebuilt = tokenizer_from_files(files)
    assert rebuilt("the app is slow")["input_ids"] == tokenizer("the app is slow")["input_ids"]


def test_max_length_above_the_model_limit_is_refused(tiny_bert_dir):
    with pytest.raises(ConfigError, match="max_length=512"):
        build_review_classifier(["a", "b"], [0, 1], 512, str(tiny_bert_dir))


def test_weight_decay_skips_biases_and_layernorm(tiny_bert_dir):
    module = build_review_classifier(["a", "b"], [0, 1], 64, str(tiny_bert_dir), weight_decay=0.1)

    class FakeTrainer:
        estimated_stepping_batches = 100

    module.trainer = FakeTrainer()  # type: ignore[assignment]
    optimizer = module.configure_optimizers()["optimizer"]
    decay, no_decay = optimizer.param_groups
    names = {id(p): n for n, p in module.named_parameters()}
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(not names[id(p)].endswith("bias") and "LayerNorm" not in names[id(p)] for p in decay["params"])
    assert any("LayerNorm" in names[id(p)] for p in no_decay["params"])


def test_linear_warmup_uses_real_step_count(tiny_bert_dir):
    module = build_review_classifier(["a", "b"], [0, 1], 64, str(tiny_bert_dir), lr=1e-3, warmup_ratio=0.1)

    class FakeTrainer:
        estimated_stepping_batches = 200

    module.trainer = FakeTrainer()  # type: ignore[assignment]
    scheduler = module.configure_optimizers()["lr_scheduler"]["scheduler"]
    lrs = []
    for _ in range(200):
        lrs.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
    assert lrs[0] == 0.0 and max(lrs) == pytest.approx(1e-3) and lrs.index(max(lrs)) == 20
    assert lrs[-1] < 1e-4


@pytest.mark.parametrize(
    ("cuda", "bf16", "requested", "expected"),
    [
        (False, False, "auto", "32-true"),
        (True, True, "auto", "bf16-mixed"),
        (True, False, "auto", "16-mixed"),
        (True, True, "32-true", "32-true"),
        (False, False, "bf16-mixed", "bf16-mixed"),
    ],
)
def test_precision_follows_hardware(monkeypatch, cuda, bf16, requested, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: bf16)
    assert resolve_precision(requested) == expected
    assert resolve_precision("auto", accelerator="cpu") == "32-true"
