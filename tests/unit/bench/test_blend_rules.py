"""bench/blend_rules.py on synthetic run folders in the suite's layout, written by the project's own table writer:
every row scores what it names, nothing is chosen on test, unfinished runs are skipped, sets are summarised."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

from bench.blend_rules import finished_runs, main, markdown_tables, run_rows, run_scores
from review_cls.models.threshold_choice import choose_thresholds, per_label_f1
from review_cls.reports.predictions import write_predictions_table
from review_cls.training.run_blend import read_run_predictions

LABELS = ["bug", "delivery", "price"]


def noisy(targets: np.ndarray, wrong: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """0.8 on the true label; on the ``wrong`` rows 0.5 on another label and 0.3 on the true one (plus jitter)."""
    rows = np.arange(len(targets))
    other = (targets + rng.integers(1, len(LABELS), len(targets))) % len(LABELS)
    probabilities = np.full((len(targets), len(LABELS)), 0.1) + rng.uniform(0, 0.01, (len(targets), len(LABELS)))
    probabilities[rows, targets] = np.where(wrong, 0.3, 0.8)
    probabilities[rows[wrong], other[wrong]] = 0.5
    return probabilities / probabilities.sum(axis=1, keepdims=True)


def write_run(run_dir: Path, seed: int, multilabel: bool = False) -> Path:
    """A run folder with val and test tables of a model and a TF-IDF that err on different reviews."""
    rng = np.random.default_rng(seed)
    for stage, size in (("val", 60), ("test", 90)):
        targets = rng.integers(0, len(LABELS), size)
        model_wrong, tfidf_wrong = rng.uniform(size=size) < 0.3, rng.uniform(size=size) < 0.3
        probabilities = {"model": noisy(targets, model_wrong, rng), "tfidf": noisy(targets, tfidf_wrong, rng)}
        truth = np.eye(len(LABELS), dtype=int)[targets] if multilabel else targets
        thresholds = np.full(len(LABELS), 0.5) if multilabel else None
        texts = [f"review {i}" for i in range(size)]
        for name, folder in (("model", run_dir), ("tfidf", run_dir / "baseline")):
            folder.mkdir(parents=True, exist_ok=True)
            write_predictions_table(folder, stage, LABELS, truth, probabilities[name], texts, np.arange(size) + 7,
                                    thresholds)
    return run_dir


def place(root: Path, recipe: str, name: str, seed: int, stamp: str = "2026-01-01") -> Path:
    return root / recipe / name / str(seed) / "default" / "runs" / stamp


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    for name in ("set_a", "set_b"):
        for seed in (0, 1):
            write_run(place(tmp_path, "english", name, seed), seed + 10 * (name == "set_b"))
    return tmp_path


def test_rows_score_the_model_tfidf_and_each_blend_on_test(suite):
    run = place(suite, "english", "set_a", 0)
    scores = run_scores(run)
    test = read_run_predictions(run, "test")
    for row, probabilities in (("model", test.model), ("tfidf", test.tfidf), ("50/50", test.model + test.tfidf)):
        assert scores[row] == pytest.approx(f1_score(test.targets, probabilities.argmax(axis=1), average="macro"))
    assert (scores["model w"], scores["tfidf w"], scores["50/50 w"]) == (1.0, 0.0, 0.5)
    # errors on different reviews: the even blend beats each half alone
    assert scores["50/50"] > max(scores["model"], scores["tfidf"])
    assert 0.0 <= scores["by val F1 w"] <= 1.0 and 0.0 <= scores["by val log-loss w"] <= 1.0


def test_the_weight_is_chosen_on_validation_only(suite):
    run = place(suite, "english", "set_a", 0)
    before = run_scores(run)
    # swap the test split's model and TF-IDF tables: the weights chosen on validation stay, their test scores move
    test, baseline_test = run / "test_predictions.csv", run / "baseline" / "test_predictions.csv"
    model_text, tfidf_text = test.read_text(), baseline_test.read_text()
    test.write_text(tfidf_text)
    baseline_test.write_text(model_text)
    after = run_scores(run)
    assert after["by val F1 w"] == before["by val F1 w"] and after["by val log-loss w"] == before["by val log-loss w"]
    assert after["model"] == pytest.approx(before["tfidf"])


def test_multilabel_rows_use_thresholds_chosen_on_validation(tmp_path):
    run = write_run(place(tmp_path, "multilabel", "set_ml", 0), 3, multilabel=True)
    scores = run_scores(run)
    val = read_run_predictions(run, "val")
    test = read_run_predictions(run, "test")
    assert test.targets.shape == (90, 3)
    thresholds = choose_thresholds(val.model, val.targets)
    assert scores["model"] == pytest.approx(np.diag(per_label_f1(test.model, test.targets, thresholds)).mean())


def test_unfinished_runs_are_skipped_and_the_newest_run_of_a_place_is_taken(suite):
    unfinished = write_run(place(suite, "english", "set_c", 0), 5)
    (unfinished / "baseline" / "test_predictions.csv").unlink()
    newer = write_run(place(suite, "english", "set_a", 0, "2026-02-01"), 99)
    os.utime(newer / "test_predictions.csv", (2e9, 2e9))
    runs = finished_runs([str(suite / "english" / "*")])
    assert unfinished not in runs and len(runs) == 4
    assert newer in runs and place(suite, "english", "set_a", 0) not in runs


def test_tables_give_set_means_gaps_and_the_rule_best_on_its_worst_set(suite, capsys):
    rows = run_rows(finished_runs([str(suite)]))
    text = markdown_tables(rows)
    per_set = rows[rows["set"] == "set_a"]
    gap = 100 * (per_set["50/50"].mean() - per_set["tfidf"].mean())
    line = next(line for line in text.splitlines() if line.startswith("| english | set_a | 2 |"))
    assert f"{per_set['model'].mean():.3f}" in line and f"{gap:+.1f}" in line
    gaps = {name: 100 * (group["50/50"].mean() - group["tfidf"].mean()) for name, group in rows.groupby("set")}
    worst = min(gaps, key=gaps.get)
    assert "| english | worst set |" in text and f"{gaps[worst]:+.1f} ({worst})" in text
    assert "english: best on its worst set: " in text
    main([str(suite / "english" / "set_b")])
    printed = capsys.readouterr().out
    assert "| english | set_b | 0 |" in printed and "set_a" not in printed


def test_no_finished_run_is_one_clear_message(tmp_path):
    with pytest.raises(SystemExit, match="No finished run folders"):
        main([str(tmp_path)])
