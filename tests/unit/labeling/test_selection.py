"""Choosing the next reviews to label: the pool (each text once, none already labeled), n and the per-class quota
checked against it, and the quota kept when the picks are chosen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from review_cls.errors import ConfigError
from review_cls.labeling.selection import check_pool_size, choose, label_studio_file, pool_reviews
from tests.helpers import CONF_DIR, write_csv


def compose_select(*overrides: str):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose(config_name="select", overrides=["ckpt_path=model.ckpt", "input=pool.csv", *overrides])


def test_the_pool_holds_each_text_once_and_none_already_labeled(tmp_path):
    texts = [" slow app", "slow app", "", "late", "late parcel", None]
    pool = write_csv(tmp_path / "pool.csv", pd.DataFrame({"review": texts}))
    labeled = write_csv(tmp_path / "labeled.csv", pd.DataFrame({"text": ["late"], "label": ["delivery"]}))
    frame, texts = pool_reviews(compose_select(f"select.labeled={labeled}", "select.labeled_text_column=text"), pool)
    assert texts == ["slow app", "late parcel"] and frame.index.tolist() == [0, 4]


def test_n_must_fit_the_pool_and_the_quotas_must_fit_n():
    with pytest.raises(ConfigError, match="n=5 is larger than the pool: 'pool.csv' has 4 review"):
        check_pool_size(compose_select("n=5"), 4, 2)
    with pytest.raises(ConfigError, match="per_class_quota=2 for 3 classes reserves 6 picks, more than n=5"):
        check_pool_size(compose_select("n=5", "select.per_class_quota=2"), 10, 3)


def test_the_quota_reserves_picks_for_a_class_the_most_uncertain_would_leave_out():
    probabilities = np.array([[0.5, 0.5], [0.55, 0.45], [0.6, 0.4], [0.1, 0.9], [0.2, 0.8]])
    picks, scores, clusters = choose(compose_select("n=3", "select.per_class_quota=1"), probabilities)
    assert picks.tolist() == [0, 1, 4] and clusters is None
    np.testing.assert_allclose(scores, 1 - probabilities.max(axis=1))


def test_the_label_studio_tasks_sit_beside_the_picks():
    assert label_studio_file(Path("out/to_label.csv")) == Path("out/to_label_label_studio.json")
