"""bench/long_reviews.py: a run's test reviews split at its max_length, the model and TF-IDF scored on each part."""

import shutil

import numpy as np

from bench.long_reviews import length_breakdown
from review_cls.reports.predictions import write_predictions_table


def test_reviews_longer_than_the_runs_max_length_are_scored_apart(tiny_checkpoint, tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    shutil.copy(tiny_checkpoint, run / "checkpoints" / "best-epoch00.ckpt")
    long_text = " ".join(["the app crashes on login"] * 60)  # 300 words: past the tiny run's 128 tokens
    texts = ["the app crashes", "love the new look", "it crashes", long_text, long_text]
    labels, truth = ["bug", "ux"], np.array([0, 1, 0, 0, 1])
    # the model is right on the short reviews only, TF-IDF on the long ones only
    for folder, predicted in ((run, [0, 1, 0, 1, 0]), (run / "baseline", [1, 0, 1, 0, 1])):
        folder.mkdir(exist_ok=True)
        write_predictions_table(folder, "test", labels, truth, np.eye(2)[predicted] * 0.8 + 0.1, texts, np.arange(5))
    breakdown = length_breakdown(run)
    assert breakdown["max_length"] == 128
    assert breakdown["fits"]["reviews"] == 3 and breakdown["truncated"]["reviews"] == 2
    assert breakdown["fits"]["model_accuracy"] == 1.0 and breakdown["fits"]["tfidf_accuracy"] == 0.0
    assert breakdown["truncated"]["model_accuracy"] == 0.0 and breakdown["truncated"]["tfidf_f1_macro"] == 1.0
