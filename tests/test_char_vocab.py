"""Character vocab built from the training split, and a BERT trained from scratch on it (Traditional Chinese demo)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review_cls.data.tokenizers import (
    SPECIAL_TOKENS,
    build_char_tokenizer,
    char_vocab_size,
    char_vocabulary,
)
from review_cls.errors import ConfigError
from review_cls.jobs.train import run_training
from review_cls.models.factory import check_vocab_size
from tests.conftest import REPO_ROOT

ZH_DEMO = REPO_ROOT / "review_cls" / "data" / "demo" / "shopping_app_reviews_zh_tw.csv"


def test_vocab_keeps_the_most_frequent_characters() -> None:
    vocab = char_vocabulary(["物流太慢", "物流很快", "退款 退款"], size=len(SPECIAL_TOKENS) + 36 + 3)
    assert vocab[: len(SPECIAL_TOKENS)] == list(SPECIAL_TOKENS)
    assert vocab[-3:] == sorted(["流", "物", "款"])  # counts 2, 2, 2 beat the singletons; ties by code point
    assert " " not in vocab


def test_tokenizer_splits_chinese_and_latin_into_characters() -> None:
    tokenizer = build_char_tokenizer(["iPhone 物流很快"], size=100)
    assert tokenizer.tokenize("iphone 物流") == ["i", "##p", "##h", "##o", "##n", "##e", "物", "流"]
    assert tokenizer.tokenize("貓")[0] == "[UNK]"


@pytest.mark.parametrize("spec", ["char_vocab:abc", "char_vocab:10"])
def test_bad_vocab_size_is_a_config_error(spec: str) -> None:
    with pytest.raises(ConfigError, match="char_vocab:N"):
        char_vocab_size(spec)


def test_a_bigger_tokenizer_needs_a_model_trained_from_scratch() -> None:
    with pytest.raises(ConfigError, match="from_scratch"):
        check_vocab_size(40000, 30522, from_scratch=False, pretrained="x")
    check_vocab_size(40000, 30522, from_scratch=True, pretrained="x")


def test_chinese_demo_trains_end_to_end_with_a_char_vocab(compose_train_cfg, tmp_path: Path) -> None:
    cfg = compose_train_cfg("+experiment=char_bert", "trainer.max_epochs=1", "data.tokenizer=char_vocab:300",
                            "data.val_size=0.2", "data.test_size=0.2", data_path=ZH_DEMO)
    metrics = run_training(cfg)
    run_dir = Path(cfg.paths.output_dir)
    vocab = json.loads((run_dir / "char_tokenizer" / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    checkpoint = next((run_dir / "checkpoints").glob("best*.ckpt"))

    import torch

    state = torch.load(checkpoint, weights_only=True)
    embeddings = next(value for name, value in state["state_dict"].items() if name.endswith("word_embeddings.weight"))
    assert embeddings.shape[0] == len(vocab) <= 300
    assert "退" in vocab or "款" in vocab
    assert 0.0 <= metrics["test/f1_macro"] <= 1.0
    assert "baseline/test_f1_macro" in metrics


def test_architecture_overrides_shape_a_model_trained_from_scratch(tiny_bert_dir: Path) -> None:
    from review_cls.models.factory import build_review_classifier

    shape = {"num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2, "intermediate_size": 32}
    model = build_review_classifier(["a", "b"], [0, 1], 32, str(tiny_bert_dir), from_scratch=True, vocab_size=50,
                                    architecture=shape)
    encoder = model.model.config
    assert (encoder.num_hidden_layers, encoder.hidden_size, encoder.intermediate_size) == (1, 16, 32)
    assert model.model.get_input_embeddings().weight.shape == (50, 16)
    assert len(model.model.bert.encoder.layer) == 1
    assert model.hparams.backbone_config["hidden_size"] == 16  # saved, so the checkpoint rebuilds this shape


@pytest.mark.parametrize(
    ("shape", "from_scratch", "message"),
    [
        ({"num_hidden_layers": 1}, False, "from_scratch=true"),
        ({"num_layers": 1}, True, "num_layers"),
        ({"hidden_size": 30, "num_attention_heads": 4}, True, "multiple of num_attention_heads"),
    ],
)
def test_bad_architecture_is_a_config_error(tiny_bert_dir: Path, shape, from_scratch: bool, message: str) -> None:
    from review_cls.models.factory import build_review_classifier

    with pytest.raises(ConfigError, match=message):
        build_review_classifier(["a", "b"], [0, 1], 32, str(tiny_bert_dir), from_scratch=from_scratch,
                                architecture=shape)


def test_preflight_refuses_an_architecture_for_pretrained_weights(compose_train_cfg) -> None:
    from review_cls.training.preflight import check_training_settings

    with pytest.raises(ConfigError, match="from_scratch=true"):
        check_training_settings(compose_train_cfg("model.architecture={num_hidden_layers: 1}"))
    check_training_settings(compose_train_cfg("model.architecture={num_hidden_layers: 1}", "model.from_scratch=true"))
