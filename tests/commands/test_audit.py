"""The audit: planted label errors found by the TF-IDF folds, the fine-tuned folds end to end (blended 50/50 with
each fold's TF-IDF by default), resume, bad settings."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import review_cls.labeling.label_audit as label_audit
from review_cls.cli import run_command
from review_cls.errors import ConfigError, DataError
from review_cls.jobs.audit import interrupted_note, run_audit
from review_cls.models.tfidf import build_tfidf_pipeline, full_probabilities
from tests.helpers import CONF_DIR, DEMO_CSV, multilabel_frame, write_csv

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


@pytest.fixture(scope="module")
def finetune_audits(planted_csv, tiny_bert_dir, tmp_path_factory) -> dict[bool, Path]:
    """The fine-tuned audit with 2 folds, blended with each fold's TF-IDF (the default) and with audit.blend=false."""
    path, _ = planted_csv
    folders = {}
    for blend in (True, False):
        folders[blend] = tmp_path_factory.mktemp(f"finetune_blend_{blend}")
        run_audit(compose_audit(path, folders[blend], "audit.model=finetune", "audit.folds=2",
                                f"model.pretrained={tiny_bert_dir}", "trainer.max_epochs=1", "trainer.accelerator=cpu",
                                "data.batch_size=32", f"audit.blend={str(blend).lower()}"))
    return folders


def saved_folds(folder: Path) -> list:
    return [np.load(folder / f"fold_{k}.npz") for k in (1, 2)]


def test_finetune_audit_scores_each_review_with_the_fold_that_did_not_train_on_it(planted_csv, finetune_audits):
    path, _ = planted_csv
    out = finetune_audits[True]
    folds = saved_folds(out / "folds" / "finetune_blend")
    held = [set(fold["row_ids"].tolist()) for fold in folds]
    assert not held[0] & held[1] and len(held[0] | held[1]) == 180
    for k in (1, 2):
        trained_on = pd.read_csv(out / "folds" / "finetune_blend" / f"fold_{k}" / "train.csv")["review"]
        held_out = pd.read_csv(path).loc[sorted(held[k - 1]), "review"]
        assert not set(trained_on) & set(held_out)
    labels = folds[0]["labels"].tolist()
    probability = {int(row): p for fold in folds for row, p in zip(fold["row_ids"], fold["probabilities"])}
    issues = pd.read_csv(out / "label_issues.csv")
    assert len(issues) > 0
    for row in issues.itertuples():
        assert row.self_confidence == pytest.approx(probability[row.row_id][labels.index(row.given_label)])
        assert row.suggested_label == labels[int(np.argmax(probability[row.row_id]))]
    assert "audit.model=finetune, audit.blend=true" in (out / "label_issues.md").read_text()


def test_the_fine_tuned_folds_are_blended_50_50_with_the_folds_own_tfidf(planted_csv, finetune_audits):
    path, _ = planted_csv
    frame = pd.read_csv(path)
    options = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "tfidf" / "default.yaml"))
    blended = saved_folds(finetune_audits[True] / "folds" / "finetune_blend")
    alone = saved_folds(finetune_audits[False] / "folds" / "finetune")
    for k, (mixed, model) in enumerate(zip(blended, alone), start=1):
        labels = mixed["labels"].tolist()
        train = pd.read_csv(finetune_audits[True] / "folds" / "finetune_blend" / f"fold_{k}" / "train.csv")
        pipeline = build_tfidf_pipeline(**options, seed=42).fit(train["review"].tolist(),
                                                                 train["category"].map(labels.index).to_numpy())
        tfidf = full_probabilities(pipeline, frame.loc[mixed["row_ids"], "review"].tolist(), len(labels))
        np.testing.assert_array_equal(mixed["row_ids"], model["row_ids"])
        np.testing.assert_allclose(mixed["probabilities"], 0.5 * model["probabilities"] + 0.5 * tfidf, atol=1e-6)


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


def test_a_rerun_with_other_model_settings_never_mixes_in_the_finished_folds(planted_csv, tmp_path):
    path, _ = planted_csv
    run_audit(compose_audit(path, tmp_path, "audit.folds=3"))
    (tmp_path / "folds" / "tfidf" / "fold_3.npz").unlink()
    with pytest.raises(ConfigError, match=r"fitted with other settings \(tfidf.C: 10.0 -> 1.0\)"):
        run_audit(compose_audit(path, tmp_path, "audit.folds=3", "tfidf.C=1.0"))
    assert sorted(p.name for p in (tmp_path / "folds" / "tfidf").glob("*.npz")) == ["fold_1.npz", "fold_2.npz"]


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
    assert sorted(p.name for p in (tmp_path / "folds" / "tfidf").iterdir()) == ["fold_1.npz", "settings.json"]
    assert f"hydra.run.dir={tmp_path} to go on from there" in capsys.readouterr().err
    assert not (tmp_path / "label_issues.csv").exists()


def test_a_finished_fold_of_other_settings_is_refused(planted_csv, tmp_path):
    path, _ = planted_csv
    run_audit(compose_audit(path, tmp_path, "audit.folds=3"))
    with pytest.raises(ConfigError, match=r"fitted with other settings \(data.seed: 42 -> 7, seed: 42 -> 7\)"):
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


def test_a_blend_setting_that_is_not_a_flag_is_refused(planted_csv, tmp_path):
    with pytest.raises(ConfigError, match="audit.blend must be true or false, got 'yes please'"):
        run_audit(compose_audit(planted_csv[0], tmp_path, "audit.blend='yes please'"))


def test_an_unknown_mode_is_refused(planted_csv, tmp_path):
    with pytest.raises(ConfigError, match="audit.model=bert is not a mode"):
        run_audit(compose_audit(planted_csv[0], tmp_path, "audit.model=bert"))


def test_an_unknown_cleanlab_filter_is_refused(planted_csv, tmp_path):
    with pytest.raises(ConfigError, match="audit.filter_by=newest is not one of cleanlab's filters: prune_by_noise_rate"):
        run_audit(compose_audit(planted_csv[0], tmp_path, "audit.filter_by=newest"))


def test_the_audit_never_writes_over_its_data_or_a_users_file_in_its_run_folder(planted_csv, tmp_path):
    path, _ = planted_csv
    data = tmp_path / "label_issues.csv"  # the issue table of an earlier audit, fixed by hand and audited again
    data.write_bytes(path.read_bytes())
    with pytest.raises(ConfigError, match=r"data.path='.*label_issues.csv' is the file written as .*\(hydra.run.dir\)"):
        run_audit(compose_audit(data, tmp_path))
    assert data.read_bytes() == path.read_bytes()
    with pytest.raises(ConfigError, match=r"holds label_issues.csv but no audit's folds/ folder: files of yours"):
        run_audit(compose_audit(path, tmp_path))
    assert data.read_bytes() == path.read_bytes() and not (tmp_path / "folds").exists()


@pytest.mark.parametrize("override, given", [("data.label_separator='|'", "data.label_separator='|'"),
                                             ("data.task=multilabel", "data.task=multilabel")])
def test_multi_label_data_is_refused_before_it_is_read(planted_csv, tmp_path, override, given):
    with pytest.raises(ConfigError, match=rf"{re.escape(given)} makes the data multi-label, but audit ranks one label "
                                          "per review.*multi-label data is not supported"):
        run_audit(compose_audit(tmp_path / "not_read.csv", tmp_path, override))


def test_a_file_auto_read_as_multi_label_is_refused(tmp_path):
    path = write_csv(tmp_path / "ml.csv", multilabel_frame().assign(category=lambda f: f["category"].str.split("|"))
                     .explode("category").dropna().query("category != ''"))  # one row per label: texts repeated
    with pytest.raises(DataError, match=r"reads as multi-label data \(data.task=auto.*Set data.task=single"):
        run_audit(compose_audit(path, tmp_path / "run"))


def test_texts_filed_under_different_labels_are_listed_apart(planted_csv, tmp_path, caplog):
    path, _ = planted_csv
    frame = pd.read_csv(path)
    other = next(label for label in frame["category"].unique() if label != frame["category"].iloc[0])
    copy = frame.iloc[[0]].assign(category=other)  # the first text again, filed under another label
    noisy = write_csv(tmp_path / "noisy.csv", pd.concat([frame, copy], ignore_index=True))
    run_audit(compose_audit(noisy, tmp_path / "run"))
    conflicts = pd.read_csv(tmp_path / "run" / "label_conflicts.csv")
    assert conflicts["text"].tolist() == [frame["review"].iloc[0]]
    assert conflicts["file_lines"].tolist() == [f"2 {len(frame) + 2}"]
    assert "1 text(s) of" in caplog.text and "the clearest label errors" in caplog.text
