"""Select end to end: the most uncertain reviews first under each strategy (by what predict ships: the checkpoint's
blend with TF-IDF unless blend=false), labeled texts left out, Label Studio both ways, bad settings (quotas and clusters on made-up probabilities: tests/unit/labeling/test_strategies.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from review_cls.errors import ConfigError, DataError
from review_cls.inference.blended_predictor import BlendedPredictor
from review_cls.inference.predictor import load_predictor
from review_cls.jobs.select import run_selection
from tests.helpers import CONF_DIR, write_csv

N = 20


def compose_select(*overrides: str):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose(config_name="select", overrides=["device=cpu", *overrides])


@pytest.fixture(scope="module")
def pool(small_reviews_csv: Path) -> pd.DataFrame:
    return pd.read_csv(small_reviews_csv)


@pytest.fixture(scope="module")
def probabilities(tiny_checkpoint: Path, pool: pd.DataFrame) -> np.ndarray:
    """The model's probabilities for the whole pool in one call: what select must rank by."""
    return load_predictor(tiny_checkpoint).predict_probabilities(pool["review"].tolist(), 64)


def expected_scores(probabilities: np.ndarray, strategy: str) -> np.ndarray:
    ordered = np.sort(probabilities, axis=1)[:, ::-1]
    if strategy == "least_confidence":
        return 1 - ordered[:, 0]
    if strategy == "margin":
        return 1 - (ordered[:, 0] - ordered[:, 1])
    return np.array([-sum(p * np.log(p) for p in row if p > 0) for row in probabilities])


def select(tiny_checkpoint: Path, source: Path, out_dir: Path, *overrides: str) -> pd.DataFrame:
    output = out_dir / "to_label.csv"
    run_selection(compose_select(f"ckpt_path={tiny_checkpoint}", f"input={source}", f"output={output}", f"n={N}",
                                 *overrides))
    return pd.read_csv(output)


@pytest.mark.parametrize("strategy", ["least_confidence", "margin", "entropy"])
def test_the_most_uncertain_reviews_come_first(tiny_checkpoint, small_reviews_csv, pool, probabilities, tmp_path,
                                               strategy):
    picked = select(tiny_checkpoint, small_reviews_csv, tmp_path, f"select.strategy={strategy}")
    scores = expected_scores(probabilities, strategy)
    expected = pool["review"].to_numpy()[np.argsort(-scores, kind="stable")[:N]]
    assert picked["review"].tolist() == expected.tolist()
    assert picked["uncertainty"].is_monotonic_decreasing
    by_text = dict(zip(pool["review"], scores))
    np.testing.assert_allclose(picked["uncertainty"], [by_text[text] for text in picked["review"]], atol=1e-6)
    labels = load_predictor(tiny_checkpoint).labels
    rows = pool.index[pool["review"].isin(picked["review"])]
    assert set(picked["predicted_label"]) <= {labels[i] for i in probabilities[rows].argmax(axis=1)}
    assert list(picked.columns) == [*pool.columns, "predicted_label", "confidence", "uncertainty"]


def test_random_picks_are_seeded(tiny_checkpoint, small_reviews_csv, tmp_path):
    first = select(tiny_checkpoint, small_reviews_csv, tmp_path / "a", "select.strategy=random")
    again = select(tiny_checkpoint, small_reviews_csv, tmp_path / "b", "select.strategy=random")
    other = select(tiny_checkpoint, small_reviews_csv, tmp_path / "c", "select.strategy=random", "seed=7")
    assert first["review"].tolist() == again["review"].tolist() != other["review"].tolist()
    assert first["review"].is_unique and len(first) == N


def test_labeled_texts_are_never_picked_again(tiny_checkpoint, small_reviews_csv, pool, probabilities, tmp_path):
    order = pool["review"].to_numpy()[np.argsort(-expected_scores(probabilities, "least_confidence"), kind="stable")]
    labeled = write_csv(tmp_path / "labeled.csv", pd.DataFrame({"text": order[:N], "label": "bug"}))
    picked = select(tiny_checkpoint, small_reviews_csv, tmp_path, f"select.labeled={labeled}",
                    "select.labeled_text_column=text")
    assert picked["review"].tolist() == order[N : 2 * N].tolist()


def test_diverse_picks_one_review_per_cluster(tiny_checkpoint, small_reviews_csv, tmp_path):
    picked = select(tiny_checkpoint, small_reviews_csv, tmp_path, "select.diverse=true")
    assert picked["cluster"].nunique() == N and len(picked) == N


def test_label_studio_tasks_round_trip_to_a_training_table(tiny_checkpoint, small_reviews_csv, tmp_path):
    picked = select(tiny_checkpoint, small_reviews_csv, tmp_path)
    tasks = json.loads((tmp_path / "to_label_label_studio.json").read_text())
    assert [task["data"]["text"] for task in tasks] == picked["review"].tolist()
    for task, row in zip(tasks, picked.itertuples()):
        (prediction,) = task["predictions"]
        assert prediction["score"] == pytest.approx(row.confidence)
        assert prediction["result"] == [{"from_name": "label", "to_name": "text", "type": "choices",
                                         "value": {"choices": [row.predicted_label]}}]
    # what a Label Studio export adds: annotations (a cancelled one and an unlabeled task are left out)
    chosen = [f"class_{i % 3}" for i in range(len(tasks))]
    for task, label in zip(tasks, chosen):
        task["annotations"] = [{"was_cancelled": False, "result": [{**task["predictions"][0]["result"][0],
                                                                    "value": {"choices": [label]}}]}]
    tasks[0]["annotations"].append({"was_cancelled": True, "result": []})
    tasks[1]["annotations"] = []
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks))
    table = tmp_path / "labeled.csv"
    summary = run_selection(compose_select(f"select.from_label_studio={export}", f"select.labeled_output={table}"))
    labeled = pd.read_csv(table)
    assert summary["labeled"] == len(tasks) - 1
    assert labeled["text"].tolist() == [task["data"]["text"] for task in tasks[:1] + tasks[2:]]
    assert labeled["label"].tolist() == chosen[:1] + chosen[2:]
    again = select(tiny_checkpoint, small_reviews_csv, tmp_path / "next", f"select.labeled={table}",
                   "select.labeled_text_column=text")
    assert not set(again["review"]) & set(labeled["text"])


@pytest.mark.parametrize(("override", "message"), [
    ("n=1000", r"n=1000 is larger than the pool: '.*reviews.csv' has 180 review\(s\) to pick from. Lower n to 180"),
    ("n=0", "n must be a whole number >= 1, got 0"),
    ("select.strategy=bald", "select.strategy=bald is not a strategy; use one of: least_confidence, margin"),
    ("select.diverse=maybe", "select.diverse must be true or false, got 'maybe'"),
    ("blend=perhaps", "blend must be true or false, got 'perhaps'"),
    ("select.per_class_quota=5", r"select.per_class_quota=5 for 6 classes reserves 30 picks, more than n=20"),
])
def test_bad_settings_are_refused_before_anything_is_written(tiny_checkpoint, small_reviews_csv, tmp_path, override,
                                                             message):
    with pytest.raises(ConfigError, match=message):
        select(tiny_checkpoint, small_reviews_csv, tmp_path, override)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_text_column_is_named(tiny_checkpoint, small_reviews_csv, tmp_path):
    with pytest.raises(DataError, match=r"has no text column 'content'. Columns: review_id, review.*Set text_column="):
        select(tiny_checkpoint, small_reviews_csv, tmp_path, "text_column=content")
    assert list(tmp_path.iterdir()) == []


def test_a_text_column_of_numbers_is_refused(tiny_checkpoint, small_reviews_csv, tmp_path):
    with pytest.raises(DataError, match=r"text_column 'rating' of '.*' holds only numbers"):
        select(tiny_checkpoint, small_reviews_csv, tmp_path, "text_column=rating")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("content", "message"), [
    ('{"data": {"text": "a"}}', "is not a Label Studio JSON export \\(a list of tasks\\)"),
    ("[{", "Cannot read .* as a Label Studio JSON export"),
    ('[{"data": {"review": "a"}, "annotations": []}]', "Task 1 in .* has no data.text"),
    ('[{"data": {"text": "a"}, "annotations": [{"was_cancelled": true, "result": []}]}]',
     "No task in .* has an annotation choosing a label"),
])
def test_a_broken_label_studio_export_is_refused(tmp_path, content, message):
    export = tmp_path / "export.json"
    export.write_text(content)
    with pytest.raises(DataError, match=message):
        run_selection(compose_select(f"select.from_label_studio={export}",
                                     f"select.labeled_output={tmp_path / 'labeled.csv'}"))
    assert not (tmp_path / "labeled.csv").exists()


@pytest.mark.parametrize("blend", [True, False])
def test_select_ranks_by_what_predict_ships_unless_blend_is_false(blended_checkpoint, small_reviews_csv, pool,
                                                                  tmp_path, blend):
    shipped = load_predictor(blended_checkpoint, blend=blend)
    assert isinstance(shipped, BlendedPredictor) is blend
    scores = expected_scores(shipped.predict_probabilities(pool["review"].tolist(), 64), "least_confidence")
    picked = select(blended_checkpoint, small_reviews_csv, tmp_path, f"blend={str(blend).lower()}")
    by_text = dict(zip(pool["review"], scores))
    np.testing.assert_allclose(picked["uncertainty"], [by_text[text] for text in picked["review"]], atol=1e-6)
    assert picked["uncertainty"].min() >= np.sort(scores)[-N] - 1e-6  # the N most uncertain under that predictor


@pytest.mark.parametrize("place", ["same", "symlink", "hard_link", "dot_dot"])
def test_no_file_select_reads_is_written_over_even_with_overwrite(tiny_checkpoint, small_reviews_csv, tmp_path, place):
    labeled = write_csv(tmp_path / "labeled.csv", pd.read_csv(small_reviews_csv).head(150))
    before = labeled.read_bytes()
    (tmp_path / "sub").mkdir()
    output = {"same": labeled, "symlink": tmp_path / "link.csv", "hard_link": tmp_path / "hard.csv",
              "dot_dot": tmp_path / "sub" / ".." / "labeled.csv"}[place]
    if place == "symlink":
        output.symlink_to(labeled)
    if place == "hard_link":
        output.hardlink_to(labeled)
    with pytest.raises(ConfigError, match=r"select.labeled='.*labeled.csv' is the file written as .*\(output\).*"
                                          "whatever overwrite says"):
        run_selection(compose_select(f"ckpt_path={tiny_checkpoint}", f"input={small_reviews_csv}", f"n={N}",
                                     f"select.labeled={labeled}", f"output={output}", "overwrite=true"))
    assert labeled.read_bytes() == before
    with pytest.raises(ConfigError, match=r"input='.*reviews.csv' is the file written as"):
        select(tiny_checkpoint, small_reviews_csv, tmp_path, f"output={small_reviews_csv}", "overwrite=true")


def test_a_label_studio_export_is_never_written_over(tmp_path):
    export = tmp_path / "export.json"
    export.write_text("[]")
    with pytest.raises(ConfigError, match="select.from_label_studio='.*export.json' is the file written as .*"
                                          r"\(select.labeled_output\)"):
        run_selection(compose_select(f"select.from_label_studio={export}", f"select.labeled_output={export}",
                                     "overwrite=true"))
    assert export.read_text() == "[]"


def test_a_pool_whose_every_text_is_labeled_already_says_so(tiny_checkpoint, small_reviews_csv, tmp_path):
    with pytest.raises(DataError, match=r"has no review left to pick after leaving out select.labeled's texts: "
                                        "every text in it is empty, repeated or labeled already"):
        select(tiny_checkpoint, small_reviews_csv, tmp_path / "out", f"select.labeled={small_reviews_csv}")
    assert not (tmp_path / "out").exists()


def test_a_multi_label_model_picks_by_its_closest_call_and_pre_selects_every_label(multilabel_run, multilabel_csv,
                                                                                 tmp_path):
    _, _, checkpoint = multilabel_run
    predictor = load_predictor(checkpoint)
    pool = pd.read_csv(multilabel_csv)
    sigmoids = predictor.predict_probabilities(pool["review"].tolist(), 64)
    picked = select(checkpoint, multilabel_csv, tmp_path, "n=10")
    thresholds = predictor.thresholds
    # each label's distance to its threshold as a share of the way to 0 or 1: the closest call decides
    share = np.abs(sigmoids - thresholds) / np.where(sigmoids >= thresholds, 1 - thresholds, thresholds)
    closest_call = share.min(axis=1)
    expected = pool["review"].to_numpy()[np.argsort(closest_call, kind="stable")[:10]]
    assert picked["review"].tolist() == expected.tolist()
    assert picked["uncertainty"].to_numpy() == pytest.approx(1 - np.sort(closest_call)[:10], abs=1e-6)
    assert "predicted_label" not in picked and "labels" in picked
    tasks = json.loads((tmp_path / "to_label_label_studio.json").read_text())
    at = {text: i for i, text in enumerate(pool["review"])}
    for task, row in zip(tasks, picked.itertuples()):
        given = [label for label, p, t in zip(predictor.labels, sigmoids[at[row.review]], predictor.thresholds)
                 if p >= t]
        assert task["data"]["multilabel"] is True
        chosen = task["predictions"][0]["result"][0]["value"]["choices"] if given else []
        assert sorted(chosen) == sorted(given) == sorted(filter(None, str(row.labels).split("|")))
