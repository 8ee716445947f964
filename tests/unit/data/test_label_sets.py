"""Multi-label input: separator cells, 0/1 columns, merged duplicates, the task decision and its errors."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from review_cls.data.label_sets import (
    MAX_LABELS,
    LabelSpec,
    MultiLabelError,
    check_label_spec,
    merge_duplicates,
)
from review_cls.data.prepare import clean_reviews
from review_cls.errors import ConfigError, ReviewClsError
from tests.helpers import data_module, fails, group_settings, multilabel_frame, reviews, write_csv

SEP = LabelSpec("auto", "|")


def test_separator_cells_become_sorted_sets_and_empty_cells_no_label():
    frame = pd.DataFrame({"text": ["crash and too expensive", "late parcel", "just fine"],
                          "label": ["pricing | bug", "delivery", None]})
    cleaned = clean_reviews(frame, "text", "label", "f.csv", SEP)
    assert cleaned.multilabel
    assert cleaned.labels == [("bug", "pricing"), ("delivery",), ()]
    assert cleaned.label_ids(["bug", "delivery", "pricing"]).tolist() == [[1, 0, 1], [0, 1, 0], [0, 0, 0]]


def test_zero_one_columns_name_the_labels():
    frame = pd.DataFrame({"text": ["a", "b", "c"], "bug": [1, 0, 1], "pricing": [1, 0, 0]})
    cleaned = clean_reviews(frame, "text", "label", "f.csv", LabelSpec("auto", None, ("bug", "pricing")))
    assert cleaned.labels == [("bug", "pricing"), (), ("bug",)]


def test_label_columns_must_hold_zero_or_one():
    frame = pd.DataFrame({"text": ["a", "b"], "bug": [1, 2]})
    with pytest.raises(MultiLabelError, match=r"'bug'.*0 or 1.*file line 3 holds 2"):
        clean_reviews(frame, "text", "label", "f.csv", LabelSpec("auto", None, ("bug",)))


def test_duplicates_with_different_labels_merge_and_are_counted(caplog):
    frame = pd.DataFrame({"text": ["crash at checkout", "crash at checkout", "late", "late", "ok app", "ok app"],
                          "label": ["bug", "pricing", "delivery", "delivery", "bug", "bug"]})
    with caplog.at_level(logging.WARNING):
        cleaned = clean_reviews(frame, "text", "label", "f.csv", LabelSpec("auto"))
    assert cleaned.multilabel and cleaned.texts == ["crash at checkout", "late", "ok app"]
    assert cleaned.labels == [("bug", "pricing"), ("delivery",), ("bug",)]
    assert cleaned.row_ids.tolist() == [0, 2, 4]
    assert "Merged 1 duplicate review text(s) with different labels" in caplog.text


def test_auto_without_conflicts_and_single_stay_single_label():
    frame = pd.DataFrame({"text": ["a", "a", "b"], "label": ["bug", "pricing", "bug"]})
    assert not clean_reviews(frame.iloc[1:], "text", "label", "f.csv", LabelSpec("auto")).multilabel
    single = clean_reviews(frame, "text", "label", "f.csv", LabelSpec("single"))
    assert not single.multilabel and single.labels == ["bug", "bug"]


def test_merge_counts_only_texts_whose_copies_differ():
    merged = merge_duplicates(["x", "y", "x", "y", "z"], [("a",), ("b",), ("a",), ("c",), ()])
    assert merged.positions.tolist() == [0, 1, 4]
    assert merged.label_sets == [("a",), ("b", "c"), ()]
    assert merged.conflicts == 1


def test_multilabel_task_on_single_label_data_says_so():
    frame = pd.DataFrame({"text": ["a", "b"], "label": ["bug", "pricing"]})
    with pytest.raises(MultiLabelError, match="single-label data"):
        clean_reviews(frame, "text", "label", "f.csv", LabelSpec("multilabel"))


def test_more_than_the_supported_labels():
    frame = pd.DataFrame({"text": ["a"], "label": ["|".join(f"l{i}" for i in range(MAX_LABELS + 1))]})
    with pytest.raises(ConfigError, match=f"{MAX_LABELS + 1} distinct labels.*at most {MAX_LABELS}"):
        clean_reviews(frame, "text", "label", "f.csv", SEP)


@pytest.mark.parametrize("settings, fragment", [
    ({"task": "single", "label_separator": "|"}, "data.task=single"),
    ({"task": "single", "label_columns": ["bug"]}, "data.task=single"),
    ({"task": "both"}, "not a task"),
    ({"task": "auto", "label_separator": "|", "label_columns": ["bug"]}, "both set"),
    ({"task": "auto", "label_columns": "bug"}, "list of column names"),
    ({"task": "auto", "label_separator": " "}, "non-blank"),
])
def test_impossible_label_settings(settings, fragment):
    with pytest.raises(ConfigError, match=fragment):
        check_label_spec(group_settings("data", "demo") | settings)


def test_undersampling_multilabel_data_fails_before_reading(compose_train_cfg, tmp_path):
    path = write_csv(tmp_path / "ml.csv", multilabel_frame())
    fails(compose_train_cfg("data.text_column=review", "data.label_separator=|",
                            "data.resampling.strategy=undersample", data_path=path),
          ConfigError, "data.resampling.strategy=undersample does not apply to multi-label data")


def test_undersampling_refused_when_duplicates_make_the_data_multilabel(tiny_bert_dir, tmp_path):
    frame = pd.concat([reviews(), pd.DataFrame({"review": ["review bug number 0"], "category": ["price"]})])
    module = data_module(path=str(write_csv(tmp_path / "dup.csv", frame)), tokenizer=str(tiny_bert_dir),
                         resampling={"strategy": "oversample", "sampling_strategy": "auto"})
    with pytest.raises(ReviewClsError, match="does not apply to multi-label"):
        module.setup()


def test_datamodule_splits_multilabel_rows_into_float_targets(tiny_bert_dir, tmp_path):
    path = write_csv(tmp_path / "ml.csv", multilabel_frame())
    module = data_module(path=str(path), tokenizer=str(tiny_bert_dir), label_separator="|", val_size=0.2,
                         test_size=0.2)
    module.setup()
    assert module.multilabel and len(module.labels) == 6
    sizes = {name: len(split) for name, split in module.splits.items()}
    assert sum(sizes.values()) == len(multilabel_frame()) and sizes["val"] > 10 and sizes["test"] > 10
    item = module.datasets["train"][0]
    assert isinstance(item["labels"], list) and len(item["labels"]) == 6
    batch = next(iter(module.train_dataloader()))
    assert batch["labels"].is_floating_point() and module.datasets["train"].labels.dtype == np.float32
    assert batch["labels"].shape[1] == 6


def test_min_class_count_drops_rare_labels_but_keeps_their_reviews():
    from review_cls.data.prepare import LabeledReviews, drop_rare_classes

    reviews = LabeledReviews(np.arange(3), ["a", "b", "c"], [("bug", "rare"), ("bug",), ()], "f.csv", multilabel=True)
    kept = drop_rare_classes(reviews, 2)
    assert kept.labels == [("bug",), ("bug",), ()] and kept.texts == ["a", "b", "c"] and kept.multilabel


def test_datamodule_reads_zero_one_label_columns(tiny_bert_dir, tmp_path):
    frame = multilabel_frame()
    for label in ("bug", "pricing"):
        frame[label] = frame["category"].str.contains("app_bug" if label == "bug" else "payment").astype(int)
    module = data_module(path=str(write_csv(tmp_path / "cols.csv", frame)), tokenizer=str(tiny_bert_dir),
                         label_columns=["pricing", "bug"])
    module.setup()
    assert module.multilabel and module.labels == ["bug", "pricing"]
    targets = np.concatenate([module.datasets[name].labels for name in ("train", "val", "test")])
    assert targets.sum(axis=0).tolist() == [frame["bug"].sum(), frame["pricing"].sum()]


def test_split_files_are_all_multilabel_when_one_is(tiny_bert_dir, tmp_path):
    """With data.task=auto only the training file has a text twice with two labels: every split becomes multi-label."""
    frame = reviews()
    train = pd.concat([frame, pd.DataFrame({"review": ["review bug number 0"], "category": ["price"]})])
    paths = {"train": write_csv(tmp_path / "train.csv", train), "val": write_csv(tmp_path / "val.csv", frame),
             "test": write_csv(tmp_path / "test.csv", frame)}
    module = data_module(split_paths={name: str(path) for name, path in paths.items()}, tokenizer=str(tiny_bert_dir))
    module.setup()
    assert all(split.multilabel for split in module.splits.values())
    assert module.datasets["val"].labels.shape == (len(frame), 3)
