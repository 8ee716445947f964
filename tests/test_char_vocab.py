"""Character vocab built from the training split, and a BERT trained from scratch on it (Traditional Chinese demo)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review_cls.data.char_vocab import SPECIAL_TOKENS, build_char_tokenizer, char_vocab_size, char_vocabulary
from review_cls.errors import ConfigError
from review_cls.models.factory import check_vocab_size
from review_cls.training import run_training
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
