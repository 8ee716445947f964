"""The audit: planted label errors found by the TF-IDF folds, the fine-tuned folds end to end, resume, bad settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

import review_cls.labeling.label_audit as label_audit
from review_cls.cli import run_command
from review_cls.errors import ConfigError, DataError
from review_cls.jobs.audit import interrupted_note, run_audit
from tests.helpers import CONF_DIR, DEMO_CSV, write_csv

# one review of each class moved to the next class: the errors the audit must find
PLANTED = 6
TWO_TOPICS = r"\b(?:but|though|although|yet|even if|also|while|whereas|however)\b"


def compose_audit(data_path: Path, out_dir: Path, *overrides: str):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose("audit", overrides=["data=file", f"data.path={data_path}", "data.text_column=review",
                                           "data.label_column=category", f"paths.output_dir={out_dir}", *overrides])


@pytest.fixture(scope="module")
def planted_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """30 single-topic demo reviews per class, the first of each class relabeled as the next class; returns the
    flipped rows. Single-topic: many demo reviews name two topics ("fast delivery but the app crashes"), and moving
    one of those to its other topic is no error an audit could find."""
    frame = pd.read_csv(DEMO_CSV)
    frame = frame[~frame["review"].str.contains(TWO_TOPICS, case=False)].groupby("category").head(30)
    frame = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    classes = sorted(frame["category"].unique())
    rows = [int(frame.index[frame["category"] == label][0]) for label in classes]
    flipped = frame.loc[rows].copy()
    flipped["planted"] = [classes[(classes.index(label) + 1) % len(classes)] for label in flipped["category"]]
    frame.loc[rows, "category"] = flipped["planted"].to_numpy()
    return write_csv(tmp_path_factory.mktemp("planted") / "reviews.csv", frame), flipped


def test_tfidf_audit_ranks_the_planted_errors_first(planted_csv, tmp_path):
    path, flipped = planted_csv
    summary = run_audit(compose_audit(path, tmp_path))
    issues = pd.read_csv(tmp_path / "label_issues.csv")
    top = issues.head(2 * PLANTED)
    assert set(flipped.index) <= set(top["row_id"]), top
    found = issues.set_index("row_id").loc[flipped.index]
    assert found["given_label"].tolist() == flipped["planted"].tolist()
    assert (found["suggested_label"] != found["given_label"]).all()
    assert issues["self_confidence"].is_monotonic_increasing
    assert set(issues["fold"]) <= set(range(1, 6))
    assert summary["issues"] == len(issues) and summary["reviews"] == 180
    report = (tmp_path / "label_issues.md").read_text()
    assert f"{len(issues)} of 180 reviews" in report
    first = flipped.iloc[0]
    assert f"| {first['planted']} |" in report


def test_finetune_audit_scores_each_review_with_the_fold_that_did_not_train_on_it(planted_csv, tiny_bert_dir,
                                                                                    tmp_path):
    path, _ = planted_csv
    run_audit(compose_audit(path, tmp_path, "audit.model=finetune", "audit.folds=2", f"model.pretrained={tiny_bert_dir}",
                            "trainer.max_epochs=1", "trainer.accelerator=cpu", "data.batch_size=32"))
    folds = [np.load(tmp_path / "folds" / "finetune" / f"fold_{k}.npz") for k in (1, 2)]
    held = [set(fold["row_ids"].tolist()) for fold in folds]
    assert not held[0] & held[1] and len(held[0] | held[1]) == 180
    for k in (1, 2):
        trained_on = pd.read_csv(tmp_path / "folds" / "finetune" / f"fold_{k}" / "train.csv")["review"]
        held_out = pd.read_csv(path).loc[sorted(held[k - 1]), "review"]
        assert not set(trained_on) & set(held_out)
    labels = folds[0]["labels"].tolist()
    probability = {int(row): p for fold in folds for row, p in zip(fold["row_ids"], fold["probabilities"])}
    issues = pd.read_csv(tmp_path / "label_issues.csv")
    assert len(issues) > 0
    for row in issues.itertuples():
        assert row.self_confidence == pytest.approx(probability[row.row_id][labels.index(row.given_label)])
        assert row.suggested_label == labels[int(np.argmax(probability[row.row_id]))]


def test_rerun_in_the_same_folder_skips_finished_folds(planted_csv, tmp_path, monkeypatch):
    path, _ = planted_csv
    run_audit(compose_audit(path, tmp_path, "audit.folds=3"))
    first = pd.read_csv(tmp_path / "label_issues.csv")
    (tmp_path / "folds" / "tfidf" / "fold_2.npz").unlink()
    fitted = []
    real = label_audit.build_tfidf_pipeline
    monkeypatch.setattr(label_audit, "build_tfidf_pipeline", lambda **options: fitted.append(1) or real(**options))
    run_audit(compose_audit(path, tmp_path, "audit.folds=3"))
    assert len(fitted) == 1
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "label_issues.csv"), first)


def test_ctrl_c_keeps_the_finished_folds_and_says_how_to_resume(planted_csv, tmp_path, monkeypatch, capsys):
    path, _ = planted_csv
    fitted = []
    real = label_audit.build_tfidf_pipeline

    def interrupt_the_second_fold(**options):
        fitted.append(1)
        if len(fitted) == 2:
            raise KeyboardInterrupt
        return real(**options)

    monkeypatch.setattr(label_audit, "build_tfidf_pipeline", interrupt_the_second_fold)
    with pytest.raises(SystemExit, match="130"):  # as the audit command starts it
        run_command(run_audit, compose_audit(path, tmp_path, "audit.folds=3"), run_folder=True,
                    interrupted=interrupted_note)
    assert sorted(p.name for p in (tmp_path / "folds" / "tfidf").iterdir()) == ["fold_1.npz"]
    assert f"hydra.run.dir={tmp_path} to go on from there" in capsys.readouterr().err
    assert not (tmp_path / "label_issues.csv").exists()


def test_a_finished_fold_of_other_settings_is_refused(planted_csv, tmp_path):
    path, _ = planted_csv
    run_audit(compose_audit(path, tmp_path, "audit.folds=3"))
    with pytest.raises(ConfigError, match="fold_1.npz' was written by an audit of other"):
        run_audit(compose_audit(path, tmp_path, "audit.folds=3", "seed=7"))


@pytest.mark.parametrize("folds", [1, 0, "abc"])
def test_fewer_than_two_folds_is_refused(planted_csv, tmp_path, folds):
    path, _ = planted_csv
    with pytest.raises(ConfigError, match=f"audit.folds must be a whole number >= 2, got {folds!r}"):
        run_audit(compose_audit(path, tmp_path / "run", f"audit.folds={folds}"))
    assert not (tmp_path / "run").exists()


def test_a_class_smaller_than_the_folds_is_named_or_left_out(tmp_path):
    classes = ["big"] * 20 + ["mid"] * 10 + ["rare"] * 3
    frame = pd.DataFrame({"review": [f"{label} review {i}" for i, label in enumerate(classes)], "category": classes})
    path = write_csv(tmp_path / "small.csv", frame)
    with pytest.raises(DataError, match=r"fewer reviews than audit.folds=5 .*'rare' has 3. Lower audit.folds to 3"):
        run_audit(compose_audit(path, tmp_path / "run"))
    assert not (tmp_path / "run").exists()
    assert run_audit(compose_audit(path, tmp_path / "dropped", "data.min_class_count=5"))["reviews"] == 30


def test_a_single_class_is_refused(tmp_path):
    path = write_csv(tmp_path / "one.csv", pd.DataFrame({"review": [f"review {i}" for i in range(10)],
                                                         "category": "bug"}))
    with pytest.raises(DataError, match="has a single class; an audit needs at least two"):
        run_audit(compose_audit(path, tmp_path / "run"))


def test_an_unknown_mode_is_refused(planted_csv, tmp_path):
    with pytest.raises(ConfigError, match="audit.model=bert is not a mode"):
        run_audit(compose_audit(planted_csv[0], tmp_path, "audit.model=bert"))


def test_an_unknown_cleanlab_filter_is_refused(planted_csv, tmp_path):
    with pytest.raises(ConfigError, match="audit.filter_by=newest is not one of cleanlab's filters: prune_by_noise_rate"):
        run_audit(compose_audit(planted_csv[0], tmp_path, "audit.filter_by=newest"))
