"""What masked-LM pretraining reads (never a later fine-tune's val/test texts), how it holds out and masks texts, and
which masking settings it refuses."""

from __future__ import annotations

import pandas as pd
import pytest
from transformers import AutoTokenizer

from review_cls.data.pretraining import MaskedReviewsDataModule, check_masking_settings, pretraining_texts
from review_cls.errors import ConfigError, DataError
from tests.helpers import data_module, reviews, write_csv

MLM = {"probability": 0.15, "holdout": 0.05, "module": {"train_only_embeddings": False}}


def test_a_labeled_file_gives_only_the_training_split_a_fine_tune_with_the_same_settings_uses(tmp_path):
    path = write_csv(tmp_path / "reviews.csv", reviews(n_per_class=12))
    settings = {"path": str(path), "text_column": "review", "label_column": "category"}
    texts = pretraining_texts(data_module(**settings))
    splits, _ = data_module(**settings).clean_splits()
    assert set(texts).isdisjoint(splits["val"].texts + splits["test"].texts)
    assert sorted(texts) == sorted(splits["train"].texts)
    assert 0 < len(texts) < 36


@pytest.mark.parametrize("labels", [None, ["bug", "", "price", "bug", None, "price"]])
def test_a_file_without_labels_or_with_blank_ones_gives_every_clean_text(tmp_path, labels):
    frame = pd.DataFrame({"review": ["slow app", "late parcel", "  ", "slow app", "bad price", "login bug"]})
    if labels is not None:
        frame["category"] = labels
    path = write_csv(tmp_path / "texts.csv", frame)
    texts = pretraining_texts(data_module(path=str(path), text_column="review", label_column="category"))
    assert sorted(texts) == ["bad price", "late parcel", "login bug", "slow app"]


def test_setup_holds_out_a_seeded_share_whose_masks_stay_the_same(tiny_bert_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_dir)
    texts = [f"the app is slow and the login update crashes {i}" for i in range(20)]

    def prepared(seed: int) -> MaskedReviewsDataModule:
        module = MaskedReviewsDataModule(texts, tokenizer, max_length=32, batch_size=4, eval_batch_size=3, seed=seed,
                                         holdout=0.2, mlm_probability=0.5)
        module.setup("fit")
        return module

    first, again = prepared(seed=3), prepared(seed=3)
    assert len(first.train_dataset) == 16
    assert [len(batch["input_ids"]) for batch in first.val_batches] == [3, 1]
    for batch, same in zip(first.val_batches, again.val_batches):
        assert batch["input_ids"].equal(same["input_ids"]) and batch["labels"].equal(same["labels"])
    masked = first.val_batches[0]["labels"] != -100
    assert masked.any() and not masked.all()
    batch = next(iter(first.train_dataloader()))
    assert "labels" in batch and len(batch["input_ids"]) <= 4


def test_too_few_texts_or_texts_the_tokenizer_cannot_read_are_refused(tiny_bert_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_dir)
    with pytest.raises(DataError, match="at least 2 texts, got 1"):
        MaskedReviewsDataModule(["one text"], tokenizer, 32, 4, 4, seed=0)
    unknown = MaskedReviewsDataModule(["應用程式很慢", "包裹遲到了", "價格太貴"], tokenizer, 32, 4, 4, seed=0,
                                      holdout=0.4)
    with pytest.raises(DataError, match="nothing to mask"):
        unknown.setup("fit")


def test_impossible_masking_settings_are_refused_naming_the_setting():
    check_masking_settings(MLM, from_scratch=True)
    with pytest.raises(ConfigError, match=r"mlm.holdout must be in \(0, 1\), got 1"):
        check_masking_settings(MLM | {"holdout": 1}, from_scratch=False)
    with pytest.raises(ConfigError, match=r"mlm.probability must be in \(0, 1\), got 0"):
        check_masking_settings(MLM | {"probability": 0}, from_scratch=False)
    with pytest.raises(ConfigError, match="mlm.probability must be a number"):
        check_masking_settings(MLM | {"probability": "high"}, from_scratch=False)
    frozen = MLM | {"module": {"train_only_embeddings": True}}
    check_masking_settings(frozen, from_scratch=False)
    with pytest.raises(ConfigError, match="needs model.from_scratch=false"):
        check_masking_settings(frozen, from_scratch=True)


def test_a_holdout_that_leaves_nothing_to_pretrain_on_is_refused(tiny_bert_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert_dir)
    module = MaskedReviewsDataModule([f"the app crashes {i}" for i in range(4)], tokenizer, 32, 4, 4, seed=0,
                                     holdout=0.9)
    with pytest.raises(ConfigError, match="mlm.holdout=0.9 holds out all 4 texts"):
        module.setup("fit")
