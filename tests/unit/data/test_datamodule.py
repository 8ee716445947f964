"""The data module: split, resample the training split only, rare classes, labels known in every split."""

from __future__ import annotations

import logging
from collections import Counter

import pandas as pd
import pytest

from review_cls.errors import DataError
from tests.helpers import data_module, imbalanced_frame, reviews, write_csv


def test_datamodule_resamples_only_the_training_split(tiny_bert_dir, tmp_path):
    path = tmp_path / "reviews.csv"
    frame = imbalanced_frame()
    frame.to_csv(path, index=False)
    common = dict(path=str(path), text_column="text", label_column="label", tokenizer=str(tiny_bert_dir),
                  val_size=0.2, test_size=0.2, seed=1)
    natural = data_module(**common)
    natural.setup()
    balanced = data_module(**common, resampling={"strategy": "undersample", "sampling_strategy": "auto"}, output_dir=str(tmp_path / "run"))
    balanced.setup()
    train_counts = Counter(balanced.splits["train"].labels)
    assert len(set(train_counts.values())) == 1
    assert train_counts["big"] < Counter(natural.splits["train"].labels)["big"]
    for name in ("val", "test"):
        assert balanced.splits[name].row_ids.tolist() == natural.splits[name].row_ids.tolist()
    saved = pd.read_json(tmp_path / "run" / "split.json", typ="series")
    assert sorted(saved["test"]) == sorted(natural.splits["test"].row_ids.tolist())


def test_undersampling_redrawn_every_epoch_sees_every_review(tiny_bert_dir, tmp_path):
    """One draw at setup leaves most of the big class unseen for the whole run; a draw per epoch covers it, each epoch
    still balanced and of the same size, and the same (seed, epoch) redraws the same reviews."""
    path = tmp_path / "reviews.csv"
    imbalanced_frame().to_csv(path, index=False)
    module = data_module(path=str(path), text_column="text", label_column="label", tokenizer=str(tiny_bert_dir),
                         val_size=0.2, test_size=0.2, seed=1,
                         resampling={"strategy": "undersample", "sampling_strategy": "auto", "every_epoch": True})
    module.setup()
    labels = module.datasets["train"].labels
    sampler = module.train_dataloader().sampler
    seen, epochs = set(), []
    for epoch in range(40):
        sampler.set_epoch(epoch)
        drawn = list(sampler)
        epochs.append(drawn)
        counts = Counter(int(labels[i]) for i in drawn)
        assert len(set(counts.values())) == 1 and len(drawn) == len(sampler)
        seen.update(drawn)
    assert len(seen) == len(labels) > len(epochs[0])  # every training review was used at least once
    assert set(epochs[0]) != set(epochs[1])
    sampler.set_epoch(1)
    assert list(sampler) == epochs[1]
    assert len(set(Counter(module.train_label_ids).values())) == 1


def test_unknown_val_label_cannot_happen_and_tiny_class_is_named(tiny_bert_dir, tmp_path):
    frame = imbalanced_frame()
    frame.loc[0, "label"] = "lonely"
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    module = data_module(path=str(path), text_column="text", label_column="label", tokenizer=str(tiny_bert_dir))
    with pytest.raises(DataError, match="'lonely' has 1"):
        module.setup()
    dropping = data_module(path=str(path), text_column="text", label_column="label",
                                tokenizer=str(tiny_bert_dir), min_class_count=3)
    dropping.setup()
    assert "lonely" not in dropping.labels


def test_file_data_config_without_a_path_fails_clearly():
    from hydra import compose, initialize_config_dir

    from review_cls.data.io import resolve_input_path
    from tests.helpers import CONF_DIR

    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name="train", overrides=["data=file"])
    with pytest.raises(DataError, match="data.path="):
        resolve_input_path(cfg.data.path)


def test_min_class_count_drops_the_class_with_a_warning(tiny_bert_dir, tmp_path, caplog):
    frame = pd.concat([reviews(), pd.DataFrame({"review": ["lonely review", "second"], "category": ["rare"] * 2})])
    path = write_csv(tmp_path / "rare.csv", frame)
    datamodule = data_module(
        path=str(path), text_column="review", label_column="category", tokenizer=str(tiny_bert_dir),
        val_size=0.2, test_size=0.2, min_class_count=3,
    )
    with caplog.at_level(logging.WARNING):
        datamodule.setup("fit")
    assert datamodule.labels == ["bug", "delivery", "price"]
    assert "'rare': 2" in caplog.text


def test_min_class_count_that_drops_everything(tiny_bert_dir, tmp_path):
    path = write_csv(tmp_path / "few.csv", reviews(n_per_class=3))
    datamodule = data_module(path=str(path), text_column="review", label_column="category",
                                  tokenizer=str(tiny_bert_dir), min_class_count=50)
    with pytest.raises(DataError, match="No reviews left"):
        datamodule.setup("fit")
