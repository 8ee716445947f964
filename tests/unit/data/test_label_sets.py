"""Multi-label input: separator cells, 0/1 columns, merged duplicates, the task decision (label noise below the
multi-label share), separator mistakes, degenerate label sets and their errors."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from review_cls.data.label_sets import (
    MAX_LABELS,
    MULTILABEL_SHARE,
    LabelConflict,
    LabelSpec,
    MultiLabelError,
    check_label_spec,
    joined_labels,
    merge_duplicates,
)
from review_cls.data.prepare import LABEL_CONFLICTS, check_class_counts, clean_reviews, read_labeled
from review_cls.errors import ConfigError, DataError, ReviewClsError
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
    assert merged.conflicts == (LabelConflict("y", ("b", "c"), (1, 3)),)
    assert merged.conflict_share == pytest.approx(1 / 3)


def noisy_frame(conflicts: int, distinct: int = 100) -> pd.DataFrame:
    """``distinct`` texts in two classes, the first ``conflicts`` of them filed a second time under the other class."""
    texts = [f"review number {i}" for i in range(distinct)]
    labels = ["positive" if i % 2 else "negative" for i in range(distinct)]
    flipped = ["negative" if label == "positive" else "positive" for label in labels[:conflicts]]
    return pd.DataFrame({"text": texts + texts[:conflicts], "label": labels + flipped})


def test_a_few_texts_under_two_labels_are_label_noise_not_a_multilabel_task(caplog):
    with caplog.at_level(logging.WARNING):
        cleaned = clean_reviews(noisy_frame(conflicts=1), "text", "label", "f.csv", LabelSpec("auto"))
    assert not cleaned.multilabel and len(cleaned) == 100
    assert cleaned.labels[0] == "negative", "each text keeps its first label"
    assert cleaned.conflicts == (LabelConflict("review number 0", ("negative", "positive"), (0, 100)),)
    assert "1 review text(s) in f.csv are filed under different labels (1.00% of 100 distinct texts; e.g. file " \
           "lines 2, 102" in caplog.text
    assert "data.task=multilabel" in caplog.text


def test_from_the_multilabel_share_on_auto_merges_texts_into_multilabel_rows(caplog):
    share = round(MULTILABEL_SHARE * 100)
    below = clean_reviews(noisy_frame(share - 1), "text", "label", "f.csv", LabelSpec("auto"))
    assert not below.multilabel
    with caplog.at_level(logging.WARNING):
        at = clean_reviews(noisy_frame(share), "text", "label", "f.csv", LabelSpec("auto"))
    assert at.multilabel and at.labels[0] == ("negative", "positive")
    assert "Merged 5 duplicate review text(s)" in caplog.text and "5.0% of the distinct texts" in caplog.text
    assert clean_reviews(noisy_frame(1), "text", "label", "f.csv", LabelSpec("multilabel")).multilabel


def test_single_task_keeps_the_first_label_and_lists_the_conflicts(caplog):
    with caplog.at_level(logging.WARNING):
        cleaned = clean_reviews(noisy_frame(conflicts=30), "text", "label", "f.csv", LabelSpec("single"))
    assert not cleaned.multilabel and len(cleaned.conflicts) == 30
    assert "set data.task=auto or multilabel if a review may carry several labels" in caplog.text


def test_the_run_folder_lists_the_texts_filed_under_two_labels(tiny_bert_dir, tmp_path):
    module = data_module(path=str(write_csv(tmp_path / "noisy.csv", noisy_frame(conflicts=2))),
                         text_column="text", label_column="label", tokenizer=str(tiny_bert_dir),
                         output_dir=str(tmp_path / "run"))
    module.setup()
    listed = pd.read_csv(tmp_path / "run" / LABEL_CONFLICTS)
    assert listed["text"].tolist() == ["review number 0", "review number 1"]
    assert listed["labels"].tolist() == ["negative | positive", "positive | negative"]
    assert listed["file_lines"].tolist() == ["2 102", "3 103"]
    clean = data_module(path=str(write_csv(tmp_path / "clean.csv", noisy_frame(conflicts=0))), text_column="text",
                        label_column="label", tokenizer=str(tiny_bert_dir), output_dir=str(tmp_path / "run2"))
    clean.setup()
    assert not (tmp_path / "run2" / LABEL_CONFLICTS).exists()


@pytest.mark.parametrize("names, joined", [
    (["a", "b", "a|b", "b|a"], ("|", ["a|b", "b|a"])),
    (["a;b", "b;c", "a;c"], (";", ["a;b", "a;c", "b;c"])),
    (["a;b", "c"], None),
    (["UI/UX", "bug", "pricing"], None),
    (["bug/crash", "bug/freeze", "pricing"], None),
])
def test_joined_label_names_point_at_a_separator(names, joined):
    assert joined_labels(names) == joined


def test_a_separator_in_no_cell_beside_labels_joined_otherwise_is_named(tmp_path):
    frame = multilabel_frame(unlabeled=0)
    with pytest.raises(MultiLabelError, match=r"data.label_separator=';' occurs in no cell of column 'category'.*"
                                              r"join other labels with '\|'.*set \"data.label_separator='\|'\""):
        clean_reviews(frame, "review", "category", "ml.csv", LabelSpec("auto", ";"))


def test_a_separator_in_no_cell_of_single_label_data_is_warned(caplog):
    with caplog.at_level(logging.WARNING):
        cleaned = clean_reviews(reviews(), "review", "category", "f.csv", SEP)
    assert cleaned.multilabel
    assert "data.label_separator='|' occurs in no cell of column 'category'" in caplog.text


def test_a_forgotten_separator_is_named_where_the_combinations_are_too_small(caplog):
    frame = multilabel_frame(pairs=2, unlabeled=0)
    with caplog.at_level(logging.WARNING):
        cleaned = clean_reviews(frame, "review", "category", "ml.csv", LabelSpec("auto"))
    assert "join other labels with '|'" in caplog.text
    with pytest.raises(DataError, match=r"too small.*join other labels with '\|': if a review may carry several "
                                        r"labels, set \"data.label_separator='\|'\". Otherwise add examples"):
        check_class_counts(cleaned, 0.15, 0.15)


def test_label_codes_keep_their_leading_zeros(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("text,label\n" + "".join(f"review {i},{'002' if i % 2 else '010'}\n" for i in range(6)))
    assert sorted(set(read_labeled(path, "text", "label", None, "utf-8", None).labels)) == ["002", "010"]


def test_a_label_column_with_no_one_is_named(caplog):
    frame = pd.DataFrame({"text": ["a", "b", "c"], "bug": [1, 0, 1], "pricing": [0, 0, 0]})
    with caplog.at_level(logging.WARNING):
        cleaned = clean_reviews(frame, "text", "label", "f.csv", LabelSpec("auto", None, ("bug", "pricing")))
    assert cleaned.label_counts.to_dict() == {"bug": 2}
    assert "Label column(s) 'pricing' in f.csv hold no 1" in caplog.text


def test_a_label_on_every_review_is_named(caplog):
    frame = pd.DataFrame({"text": ["a", "b", "c"], "label": ["app|bug", "app", "app|price"]})
    with caplog.at_level(logging.WARNING):
        clean_reviews(frame, "text", "label", "f.csv", SEP)
    assert "Label(s) 'app' in f.csv are on every review" in caplog.text


def test_a_label_too_rare_for_every_split_is_refused_like_a_class():
    frame = multilabel_frame(unlabeled=0)
    frame.iloc[0, 1] += "|rare"
    cleaned = clean_reviews(frame, "review", "category", "ml.csv", SEP)
    with pytest.raises(DataError, match=r"Label\(s\) too small .*'rare' has 1 \(need at least 3\).*"
                                        r"data.min_class_count=3 to drop such labels \(their reviews stay\)"):
        check_class_counts(cleaned, 0.15, 0.15)


def test_reviews_with_no_label_at_all_are_named():
    frame = pd.DataFrame({"text": ["a", "b"], "label": [None, ""]})
    cleaned = clean_reviews(frame, "text", "label", "f.csv", SEP)
    with pytest.raises(DataError, match="None of the 2 reviews in 'f.csv' carries a label"):
        check_class_counts(cleaned, 0.15, 0.15)


def test_a_missing_label_column_names_the_label_columns_setting():
    frame = pd.DataFrame({"text": ["a"], "bug": [1]})
    with pytest.raises(DataError, match=r"'pricing' not found.*Set data.text_column / data.label_columns"):
        clean_reviews(frame, "text", "label", "f.csv", LabelSpec("auto", None, ("bug", "pricing")))


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
    frame = pd.concat([reviews(), pd.DataFrame({"review": [f"review bug number {i}" for i in range(3)],
                                                "category": ["price"] * 3})])
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
    """With data.task=auto only the training file has texts twice with two labels: every split becomes multi-label."""
    frame = reviews()
    train = pd.concat([frame, pd.DataFrame({"review": [f"review bug number {i}" for i in range(3)],
                                            "category": ["price"] * 3})])
    paths = {"train": write_csv(tmp_path / "train.csv", train), "val": write_csv(tmp_path / "val.csv", frame),
             "test": write_csv(tmp_path / "test.csv", frame)}
    module = data_module(split_paths={name: str(path) for name, path in paths.items()}, tokenizer=str(tiny_bert_dir))
    module.setup()
    assert all(split.multilabel for split in module.splits.values())
    assert module.datasets["val"].labels.shape == (len(frame), 3)


def test_cells_joined_with_another_separator_than_the_one_set_are_named(caplog):
    frame = multilabel_frame(unlabeled=0)
    frame.iloc[:2, 1] = frame.iloc[:2, 1].str.replace("|", ";")
    with caplog.at_level(logging.WARNING):
        clean_reviews(frame, "review", "category", "ml.csv", SEP)
    assert "join other labels with ';', not with data.label_separator='|': write them with '|'" in caplog.text
