"""bench/long_reviews.py: a run's test reviews split at its max_length, the model and TF-IDF scored on each part."""

import shutil

import pandas as pd

from bench.long_reviews import length_breakdown


def test_reviews_longer_than_the_runs_max_length_are_scored_apart(tiny_checkpoint, tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "baseline").mkdir()
    shutil.copy(tiny_checkpoint, run / "checkpoints" / "best-epoch00.ckpt")
    long_text = " ".join(["the app crashes on login"] * 60)  # 300 words: past the tiny run's 128 tokens
    texts = ["the app crashes", "love the new look", "it crashes", long_text, long_text]
    truth = ["bug", "ux", "bug", "bug", "ux"]
    # the model is right on the short reviews only, TF-IDF on the long ones only
    model = pd.DataFrame({"row_id": range(5), "text": texts, "true_label": truth,
                          "predicted_label": ["bug", "ux", "bug", "ux", "bug"]})
    model.to_csv(run / "test_predictions.csv", index=False)
    model.assign(predicted_label=["ux", "bug", "ux", "bug", "ux"]).to_csv(run / "baseline" / "test_predictions.csv",
                                                                         index=False)
    breakdown = length_breakdown(run)
    assert breakdown["max_length"] == 128
    assert breakdown["fits"]["reviews"] == 3 and breakdown["truncated"]["reviews"] == 2
    assert breakdown["fits"]["model_accuracy"] == 1.0 and breakdown["fits"]["tfidf_accuracy"] == 0.0
    assert breakdown["truncated"]["model_accuracy"] == 0.0 and breakdown["truncated"]["tfidf_f1_macro"] == 1.0
