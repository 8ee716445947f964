"""Tokenizers: the character vocab built from the training split, and tokenizers carried as plain text."""

from __future__ import annotations

import pytest

from review_cls.data.tokenizers import (
    SPECIAL_TOKENS,
    build_char_tokenizer,
    char_vocab_size,
    char_vocabulary,
    tokenizer_files,
    tokenizer_from_files,
)
from review_cls.errors import ConfigError
from review_cls.models.pretrained import load_tokenizer


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


def test_tokenizer_travels_as_plain_text(tiny_bert_dir):
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    files = tokenizer_files(tokenizer)
    assert all(isinstance(text, str) for text in files.values())
    rebuilt = tokenizer_from_files(files)
    assert rebuilt("the app is slow")["input_ids"] == tokenizer("the app is slow")["input_ids"]
