"""The suite's table: per-set means beside TF-IDF, the mean gap and the worst set; failed runs left out."""

import json

from bench.suite import summarize


def test_summary_gives_each_sets_gap_and_names_the_worst_set(tmp_path):
    rows = [
        {"recipe": "chinese", "set": "hotel_zh", "seed": 0, "test": 0.90, "tfidf": 0.88},
        {"recipe": "chinese", "set": "hotel_zh", "seed": 1, "test": 0.92, "tfidf": 0.88},
        {"recipe": "chinese", "set": "shopping_zh_8k", "seed": 0, "test": 0.84, "tfidf": 0.85},
        {"recipe": "chinese", "set": "shopping_zh_8k", "seed": 1, "error": "Traceback ..."},
    ]
    results = tmp_path / "suite.jsonl"
    results.write_text("".join(json.dumps(row) + "\n" for row in rows))
    table = summarize([results])
    assert "| chinese | hotel_zh | 2 | 0.910 ± 0.014 | 0.880 | +3.0 |" in table
    assert "| chinese | shopping_zh_8k | 1 | 0.840 | 0.850 | -1.0 |" in table
    assert "+1.0 / -1.0 (shopping_zh_8k)" in table

