from collections import Counter

import numpy as np
import pandas as pd
import pytest

from review_cls.data.batching import EpochSampler, TokenizedReviews, tokenize_texts
from review_cls.data.datamodule import ReviewDataModule
from review_cls.data.prepare import clean_reviews, stratified_split
from review_cls.data.resampling import resample_indices
from review_cls.errors import DataError


def _frame():
    texts = [f"review number {i}" for i in range(60)]
    labels = ["big"] * 40 + ["mid"] * 14 + ["rare"] * 6
    return pd.DataFrame({"text": texts, "label": labels})


def test_clean_drops_empty_and_duplicates_keeping_row_ids():
    frame = pd.DataFrame({"text": ["a", " ", None, "b", "a", "c "], "label": ["x", "y", "x", "y", "y", "x"]})
    reviews = clean_reviews(frame, "text", "label", "f.csv")
    assert reviews.texts == ["a", "b", "c"]
    assert reviews.labels == ["x", "y", "x"]
    assert reviews.row_ids.tolist() == [0, 3, 5]


def test_integer_labels_keep_their_names():
    frame = pd.DataFrame({"text": ["a", "b", "c"], "label": [3, 10, 3]})
    assert clean_reviews(frame, "text", "label", "f.csv").labels == ["3", "10", "3"]


def test_stratified_split_is_seeded_disjoint_and_keeps_class_mix():
    labels = _frame()["label"].tolist()
    split = stratified_split(labels, 0.2, 0.2, seed=7)
    assert split["train"].tolist() == stratified_split(labels, 0.2, 0.2, seed=7)["train"].tolist()
    everything = np.concatenate(list(split.values()))
    assert len(everything) == len(set(everything.tolist())) == 60
    for name in ("val", "test"):
        counts = Counter(labels[i] for i in split[name])
        assert counts["big"] > counts["mid"] >= counts["rare"] >= 1


def test_undersample_balances_and_oversample_repeats():
    labels = ["a"] * 30 + ["b"] * 10 + ["c"] * 5
    kept = resample_indices(labels, "undersample", "auto", seed=0)
    assert Counter(labels[i] for i in kept) == {"a": 5, "b": 5, "c": 5}
    grown = resample_indices(labels, "oversample", "auto", seed=0)
    assert Counter(labels[i] for i in grown) == {"a": 30, "b": 30, "c": 30}
    partial = resample_indices(labels, "undersample", {"a": 12}, seed=0)
    assert Counter(labels[i] for i in partial) == {"a": 12, "b": 10, "c": 5}
    assert resample_indices(labels, "none").tolist() == list(range(45))


def test_datamodule_resamples_only_the_training_split(tiny_bert_dir, tmp_path):
    path = tmp_path / "reviews.csv"
    frame = _frame()
    frame.to_csv(path, index=False)
    common = dict(path=str(path), text_column="text", label_column="label", tokenizer=str(tiny_bert_dir),
                  val_size=0.2, test_size=0.2, seed=1)
    natural = ReviewDataModule(**common)
    natural.setup()
    balanced = ReviewDataModule(**common, resampling={"strategy": "undersample"}, output_dir=str(tmp_path / "run"))
    balanced.setup()
    train_counts = Counter(balanced.splits["train"].labels)
    assert len(set(train_counts.values())) == 1
    assert train_counts["big"] < Counter(natural.splits["train"].labels)["big"]
    for name in ("val", "test"):
        assert balanced.splits[name].row_ids.tolist() == natural.splits[name].row_ids.tolist()
    saved = pd.read_json(tmp_path / "run" / "split.json", typ="series")
    assert sorted(saved["test"]) == sorted(natural.splits["test"].row_ids.tolist())


def test_dynamic_padding_pads_to_longest_in_batch_not_max_length(tiny_bert_dir):
    from transformers import DataCollatorWithPadding

    from review_cls.data.tokenizers import load_tokenizer

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


def test_unknown_val_label_cannot_happen_and_tiny_class_is_named(tiny_bert_dir, tmp_path):
    frame = _frame()
    frame.loc[0, "label"] = "lonely"
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    module = ReviewDataModule(path=str(path), text_column="text", label_column="label", tokenizer=str(tiny_bert_dir))
    with pytest.raises(DataError, match="'lonely' has 1"):
        module.setup()
    dropping = ReviewDataModule(path=str(path), text_column="text", label_column="label",
                                tokenizer=str(tiny_bert_dir), min_class_count=3)
    dropping.setup()
    assert "lonely" not in dropping.labels


def test_file_data_config_without_a_path_fails_clearly():
    from hydra import compose, initialize_config_dir

    from review_cls.data.io import resolve_input_path
    from tests.conftest import CONF_DIR

    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="train", overrides=["data=file"])
    with pytest.raises(DataError, match="data.path="):
        resolve_input_path(cfg.data.path)
