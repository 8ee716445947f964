"""Tokenize once, pad per batch, group by length, pack ids."""

from __future__ import annotations

import numpy as np
import pytest

from review_cls.data.batching import EpochSampler, TokenizedReviews, tokenize_texts


def test_dynamic_padding_pads_to_longest_in_batch_not_max_length(tiny_bert_dir):
    from transformers import DataCollatorWithPadding

    from review_cls.models.pretrained import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_bert_dir))
    texts = ["bad", "the app is very slow and it crashes", "a " * 300]
    assert len(tokenize_texts(tokenizer, texts, max_length=128)[2]) == 128
    ids = tokenize_texts(tokenizer, texts[:2], max_length=128)
    dataset = TokenizedReviews(ids, [0, 1])
    batch = DataCollatorWithPadding(tokenizer)([dataset[0], dataset[1]])
    assert batch["input_ids"].shape == (2, len(ids[1]))
    assert batch["attention_mask"][0].sum() == len(ids[0])
    assert batch["labels"].tolist() == [0, 1]


def test_length_grouped_sampler_reduces_padding_and_depends_on_epoch():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 128, size=640).tolist()
    grouped = EpochSampler(lengths, batch_size=32, seed=0)
    plain = EpochSampler(lengths, batch_size=32, seed=0, group_by_length=False)

    def padded_tokens(order):
        return sum(32 * max(lengths[i] for i in order[k:k + 32]) for k in range(0, len(order), 32))

    first = list(grouped)
    assert sorted(first) == list(range(640))
    assert padded_tokens(first) < 0.7 * padded_tokens(list(plain))
    assert list(grouped) == first
    grouped.set_epoch(1)
    second = list(grouped)
    before = [set(first[k:k + 32]) for k in range(0, 640, 32)]
    overlap = np.mean([max(len(set(second[k:k + 32]) & old) for old in before) / 32 for k in range(0, 640, 32)])
    assert overlap < 0.6  # fresh batch composition each epoch, even on a small split
    grouped.set_epoch(0)
    assert list(grouped) == first


def test_chunked_tokenization_gives_the_same_ids(tiny_bert_dir) -> None:
    """Tokenizing in chunks into packed int32 ids (to bound peak memory) must not change a single id."""
    import numpy as np

    from review_cls.data.batching import PackedTokenIds, tokenize_texts
    from review_cls.models.pretrained import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_bert_dir))
    texts = [f"the app crashes {i} times" * (i % 4 + 1) for i in range(10)]
    expected = tokenizer(texts, truncation=True, max_length=16)["input_ids"]
    packed = tokenize_texts(tokenizer, texts, 16, chunk_size=3)
    assert packed.flat.dtype == np.uint16  # the tiny vocab fits; a 250k vocab needs int32
    assert PackedTokenIds.from_lists([[[70000, 1]]], vocab_size=250_000)[0] == [70000, 1]
    assert list(packed) == expected == list(tokenize_texts(tokenizer, texts, 16, chunk_size=100))
    assert packed.lengths.tolist() == [len(ids) for ids in expected]
    assert packed[-1] == expected[-1]
    with pytest.raises(IndexError):
        packed[len(texts)]


def test_reviews_the_tokenizer_knows_nothing_in_are_counted_with_an_example(tiny_bert_dir, caplog):
    import logging

    from review_cls.data.batching import unknown_only
    from review_cls.data.tokenizers import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_bert_dir))
    texts = ["😀😀", "the app crashes", "送貨太慢", "", "app 很好"]
    with caplog.at_level(logging.WARNING):
        ids = tokenize_texts(tokenizer, texts, 32, chunk_size=2)
    assert unknown_only(ids, tokenizer).tolist() == [True, False, True, True, False]
    assert "3 of 5 review(s) hold no piece the tokenizer knows" in caplog.text and "'😀😀'" in caplog.text


def test_a_training_split_of_unknown_pieces_only_is_refused(tiny_bert_dir, tmp_path):
    import pandas as pd

    from review_cls.errors import DataError
    from tests.helpers import data_module

    frame = pd.DataFrame({"review": ["送貨太慢" + "字" * i for i in range(60)], "category": ["slow", "good", "bad"] * 20})
    path = tmp_path / "zh.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"None of the \d+ training reviews of '.*zh.csv' holds a piece the tokenizer "
                                        r"knows \(all \[UNK\]\)"):
        data_module(path=str(path), tokenizer=str(tiny_bert_dir)).setup()
