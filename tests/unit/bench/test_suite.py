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



def test_finished_runs_are_read_per_recipe_and_failed_ones_are_not_finished(tmp_path):
    from bench.suite import finished

    rows = [{"recipe": "multilabel", "set": "clap_ml", "seed": 0, "test": 0.7, "tfidf": 0.6},
            {"recipe": "multilabel", "set": "clap_ml", "seed": 1, "error": "Traceback ..."},
            {"recipe": "english", "set": "clap", "seed": 0, "test": 0.8, "tfidf": 0.8}]
    results = tmp_path / "suite.jsonl"
    assert finished(results, "multilabel") == set()
    results.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert finished(results, "multilabel") == {("clap_ml", 0)}


def test_the_summary_averages_the_model_with_tfidf_from_the_run_folders(tmp_path):
    import pandas as pd

    run = tmp_path / "runs" / "english" / "clap" / "0" / "default" / "runs" / "t"
    (run / "baseline").mkdir(parents=True)
    (run / "metrics.json").write_text("{}")
    truth = ["bug", "bug", "ux", "ux"]
    # the model is sure and wrong on row 3, TF-IDF unsure and wrong on row 1: their average gets all four right
    model = pd.DataFrame({"row_id": range(4), "text": ["a", "b", "c", "d"], "true_label": truth,
                          "predicted_label": ["bug", "bug", "ux", "bug"],
                          "prob_bug": [0.9, 0.9, 0.2, 0.6], "prob_ux": [0.1, 0.1, 0.8, 0.4]})
    tfidf = model.assign(predicted_label=["bug", "ux", "ux", "ux"], prob_bug=[0.8, 0.45, 0.1, 0.1],
                         prob_ux=[0.2, 0.55, 0.9, 0.9])
    model.to_csv(run / "test_predictions.csv", index=False)
    tfidf.to_csv(run / "baseline" / "test_predictions.csv", index=False)
    results = tmp_path / "suite.jsonl"
    results.write_text(json.dumps({"recipe": "english", "set": "clap", "seed": 0, "test": 0.73, "tfidf": 0.73}) + "\n")
    assert "| +0.0 | 1.000 (1) |" in summarize([results], tmp_path / "runs")
    assert summarize([results]).splitlines()[2].endswith("| +0.0 |  |")  # no run folders given: no average


def test_capping_a_class_keeps_a_seeded_sample_of_it_and_every_other_row():
    import pandas as pd

    from bench.common import cap_class

    frame = pd.DataFrame({"review": [f"r{i}" for i in range(30)], "label": ["ux"] * 20 + ["bug"] * 10})
    capped = cap_class(frame, "label", "ux", cap=5)
    assert capped["label"].value_counts().to_dict() == {"bug": 10, "ux": 5}
    assert set(capped["review"]) >= {f"r{i}" for i in range(20, 30)}
    assert capped.equals(cap_class(frame, "label", "ux", cap=5))  # the same file every time
    assert not capped.equals(cap_class(frame, "label", "ux", cap=5, seed=1))


def test_each_built_set_reads_the_file_its_builder_writes(tmp_path, monkeypatch):
    from pathlib import Path

    from bench.suite import BUILT_FILES, SETS

    monkeypatch.chdir(tmp_path)  # the builders' relative paths land here; an existing file is returned, not rebuilt
    for name, build in BUILT_FILES.items():
        read = Path(next(o.removeprefix("data.path=") for o in SETS[name][0] if o.startswith("data.path=")))
        read.parent.mkdir(parents=True, exist_ok=True)
        read.touch()
        assert Path(build()) == read, name


import pytest  # noqa: E402


@pytest.mark.parametrize("argument", ["3/2", "0/2", "1/0", "half", "1/2/3"])
def test_a_shard_that_is_not_i_of_n_is_refused_before_any_run(argument, capsys):
    from bench.suite import main

    with pytest.raises(SystemExit) as caught:
        main(["--recipe", "english", "--shard", argument])
    assert caught.value.code == 2
    assert f"argument --shard: '{argument}'" in capsys.readouterr().err


def test_a_shard_past_the_last_run_and_a_missing_summary_file_are_refused(tmp_path, capsys, monkeypatch):
    import bench.suite
    from bench.suite import main

    monkeypatch.setattr(bench.suite, "SHARED", tmp_path)
    with pytest.raises(SystemExit) as caught:
        main(["--recipe", "english", "--seeds", "0", "--shard", "3/3", "--out", str(tmp_path / "out.jsonl")])
    assert caught.value.code == 2 and "--shard 3/3 takes no run: there are 2" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["--summarize", str(tmp_path / "missing.jsonl")])
    assert caught.value.code == 2 and "missing.jsonl' is not a file" in capsys.readouterr().err


def test_missing_shared_data_or_failed_runs_end_the_suite_with_a_failure(tmp_path, monkeypatch):
    import bench.suite
    from bench.suite import main

    monkeypatch.setattr(bench.suite, "SHARED", tmp_path / "absent")
    arguments = ["--recipe", "english", "--sets", "clap", "--seeds", "0", "--out", str(tmp_path / "out.jsonl")]
    with pytest.raises(SystemExit, match="absent is missing"):
        main(arguments)
    monkeypatch.setattr(bench.suite, "SHARED", tmp_path)
    monkeypatch.setattr(bench.suite, "run_one", lambda recipe, name, seed, *rest: {
        "recipe": recipe, "set": name, "seed": seed, "error": "Data file does not exist"})
    with pytest.raises(SystemExit, match=r"1 of 1 run\(s\) failed; their errors are in .*out.jsonl"):
        main(arguments)
