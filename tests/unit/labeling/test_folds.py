"""Stratified out-of-fold probabilities for the label audit: fold counts checked, no review scored by a model that
saw it, and finished folds read back instead of fitted again."""

from __future__ import annotations

import json

import numpy as np
import pytest

from review_cls.data.prepare import LabeledReviews
from review_cls.errors import ConfigError, DataError
from review_cls.labeling.folds import (
    FOLD_SETTINGS,
    check_fold_counts,
    check_fold_settings,
    fold_of_rows,
    out_of_sample_probabilities,
    read_fold,
)

LABELS = ["bug", "delivery", "price"]


def labeled(labels: list[str]) -> LabeledReviews:
    return LabeledReviews(row_ids=np.arange(10, 10 + len(labels)), texts=[f"review {i}" for i in range(len(labels))],
                          labels=labels, source="reviews.csv")


def test_a_single_class_or_a_class_smaller_than_the_fold_count_is_refused_naming_it():
    with pytest.raises(DataError, match="a single class"):
        check_fold_counts(labeled(["bug"] * 6), folds=3)
    with pytest.raises(DataError, match=r"'price' has 2\. Lower audit.folds to 2 or less"):
        check_fold_counts(labeled(["bug"] * 5 + ["price"] * 2), folds=3)
    check_fold_counts(labeled(["bug"] * 5 + ["price"] * 3), folds=3)


def test_every_fold_holds_out_each_class_and_the_seed_fixes_the_assignment():
    labels = ["bug"] * 9 + ["delivery"] * 6 + ["price"] * 3
    fold = fold_of_rows(labels, folds=3, seed=1)
    assert sorted(set(fold.tolist())) == [0, 1, 2]
    for k in range(3):
        held = [label for label, f in zip(labels, fold) if f == k]
        assert sorted(held) == ["bug"] * 3 + ["delivery"] * 2 + ["price"]
    assert fold_of_rows(labels, folds=3, seed=1).tolist() == fold.tolist()


def test_each_review_is_scored_by_the_fold_model_fitted_without_it(tmp_path):
    reviews = labeled(["bug", "delivery", "price"] * 3)
    fold = fold_of_rows(reviews.labels, folds=3, seed=0)
    calls = []

    def fit_predict(train, held, folder):
        assert set(train.row_ids).isdisjoint(held.row_ids)
        calls.append(folder.name)
        return np.tile(np.asarray(held.row_ids, dtype=float)[:, None], (1, len(LABELS)))

    probabilities = out_of_sample_probabilities(reviews, LABELS, fold, tmp_path, fit_predict)
    assert calls == ["fold_1", "fold_2", "fold_3"]
    assert probabilities[:, 0].tolist() == reviews.row_ids.astype(float).tolist()
    assert sorted(path.name for path in tmp_path.glob("*.npz")) == ["fold_1.npz", "fold_2.npz", "fold_3.npz"]


def test_a_resumed_audit_reads_finished_folds_and_fits_only_the_missing_one(tmp_path):
    reviews = labeled(["bug", "delivery", "price"] * 3)
    fold = fold_of_rows(reviews.labels, folds=3, seed=0)
    first = out_of_sample_probabilities(reviews, LABELS, fold, tmp_path,
                                        lambda train, held, folder: np.full((len(held), 3), 1 / 3))
    (tmp_path / "fold_2.npz").unlink()
    fitted = []

    def fit_predict(train, held, folder):
        fitted.append(folder.name)
        return np.full((len(held), 3), 0.5)

    again = out_of_sample_probabilities(reviews, LABELS, fold, tmp_path, fit_predict)
    assert fitted == ["fold_2"]
    np.testing.assert_allclose(again[fold != 1], first[fold != 1])
    np.testing.assert_allclose(again[fold == 1], 0.5)


def test_a_fold_file_of_other_reviews_or_labels_is_refused_and_a_broken_one_named(tmp_path):
    reviews = labeled(["bug", "delivery", "price"] * 2)
    fold = fold_of_rows(reviews.labels, folds=2, seed=0)
    out_of_sample_probabilities(reviews, LABELS, fold, tmp_path, lambda train, held, folder: np.zeros((len(held), 3)))
    held = reviews.row_ids[fold == 0]
    assert read_fold(tmp_path / "fold_1.npz", held, LABELS).shape == (len(held), 3)
    assert read_fold(tmp_path / "fold_9.npz", held, LABELS) is None
    with pytest.raises(ConfigError, match="written by an audit of other reviews, labels"):
        read_fold(tmp_path / "fold_1.npz", held + 100, LABELS)
    with pytest.raises(ConfigError, match="written by an audit of other reviews, labels"):
        read_fold(tmp_path / "fold_1.npz", held, ["bug", "price", "delivery"])
    (tmp_path / "fold_2.npz").write_bytes(b"not an npz")
    with pytest.raises(DataError, match="Cannot read the finished fold .*fold_2.npz.*Delete it"):
        read_fold(tmp_path / "fold_2.npz", reviews.row_ids[fold == 1], LABELS)


def test_a_class_of_one_review_is_not_told_to_lower_the_folds_below_two():
    with pytest.raises(DataError) as caught:
        check_fold_counts(labeled(["bug"] * 5 + ["price"]), folds=3)
    assert "Lower audit.folds" not in str(caught.value)
    assert "'price' has 1. Add reviews of those classes, or leave them out with data.min_class_count=3" in str(
        caught.value)


@pytest.mark.parametrize("damage", ["cut short", "a plain array", "wrong shape", "not probabilities"])
def test_a_damaged_fold_file_is_named_with_the_advice_to_delete_it(tmp_path, damage):
    reviews = labeled(["bug", "delivery", "price"] * 2)
    fold = fold_of_rows(reviews.labels, folds=2, seed=0)
    held = reviews.row_ids[fold == 0]
    path = tmp_path / "fold_1.npz"
    out_of_sample_probabilities(reviews, LABELS, fold, tmp_path, lambda train, part, folder: np.full((len(part), 3), 0.2))
    if damage == "cut short":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "a plain array":
        with open(path, "wb") as file:
            np.save(file, np.zeros(3))
    else:
        values = np.zeros((len(held), 2)) if damage == "wrong shape" else np.full((len(held), 3), 7.0)
        with open(path, "wb") as file:
            np.savez(file, row_ids=held, labels=np.asarray(LABELS), probabilities=values)
    with pytest.raises(DataError, match=r"Cannot read the finished fold .*fold_1.npz.*Delete it to fit that fold again"):
        read_fold(path, held, LABELS)


def test_finished_folds_are_read_back_only_with_the_settings_they_were_fitted_with(tmp_path):
    fitted = {"model": {"lr": 2e-5, "pooling": "cls"}, "trainer": {"max_epochs": 3}, "seed": 42}
    check_fold_settings(tmp_path / "finetune", fitted)
    assert json.loads((tmp_path / "finetune" / FOLD_SETTINGS).read_text()) == fitted
    check_fold_settings(tmp_path / "finetune", fitted)  # a resume with the same settings goes on
    changed = {**fitted, "model": {"lr": 3e-5, "pooling": "cls"}}
    with pytest.raises(ConfigError, match=r"other settings \(model.lr: 2e-05 -> 3e-05\).*delete the folder"):
        check_fold_settings(tmp_path / "finetune", changed)
    (tmp_path / "finetune" / FOLD_SETTINGS).write_text("{cut")
    with pytest.raises(DataError, match=r"Cannot read .*settings.json"):
        check_fold_settings(tmp_path / "finetune", fitted)
