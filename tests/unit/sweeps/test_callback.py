"""The sweep-summary Hydra callback: it writes the summary in a multirun only, never fails the sweep, and ends a
search none of whose trials finished with exit code 2 and a readable error."""

from __future__ import annotations

import pandas as pd
import pytest
from hydra.types import RunMode
from omegaconf import OmegaConf

from review_cls.errors import USER_ERROR_EXIT_CODE
from review_cls.sweeps.callback import SweepSummary, stop_if_no_trial_finished
from review_cls.sweeps.sweep_summary import SUMMARY_CSV, SUMMARY_MD, summary_frame
from review_cls.utils.run_folder import FAILED, write_run_record


def sweep_config(sweep_dir, mode=RunMode.MULTIRUN, **sweeper):
    return OmegaConf.create({"hydra": {"mode": mode, "sweep": {"dir": str(sweep_dir)}, "sweeper": sweeper}})


def job(sweep_dir, name, **record):
    folder = sweep_dir / name
    folder.mkdir(parents=True)
    write_run_record(folder, record.pop("metrics", {}), "val/f1_macro", **record)


def test_each_finished_job_refreshes_the_summary_of_a_multirun(tmp_path):
    job(tmp_path, "0", metrics={"val/f1_macro": 0.4})
    job(tmp_path, "1", metrics={"val/f1_macro": 0.7})
    SweepSummary().on_job_end(sweep_config(tmp_path), job_return=None)
    assert (tmp_path / SUMMARY_MD).is_file()
    assert pd.read_csv(tmp_path / SUMMARY_CSV)["run"].tolist() == [1, 0]  # best run ranked first


def test_a_minimizing_sweeper_ranks_the_lowest_first(tmp_path):
    job(tmp_path, "0", metrics={"val/f1_macro": 0.4})
    job(tmp_path, "1", metrics={"val/f1_macro": 0.7})
    SweepSummary().on_multirun_end(sweep_config(tmp_path, direction="minimize"))
    assert pd.read_csv(tmp_path / SUMMARY_CSV)["run"].tolist() == [0, 1]


def test_a_single_run_writes_no_summary(tmp_path):
    job(tmp_path, "0", metrics={"val/f1_macro": 0.4})
    SweepSummary().on_job_end(sweep_config(tmp_path, mode=RunMode.RUN), job_return=None)
    assert not (tmp_path / SUMMARY_MD).exists()


def test_a_summary_that_cannot_be_written_does_not_fail_the_sweep(tmp_path, caplog):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    SweepSummary().on_multirun_end(sweep_config(not_a_folder))
    assert "Could not write the sweep summary" in caplog.text


def test_a_search_with_no_finished_trial_exits_2_naming_the_first_error(tmp_path, capsys):
    job(tmp_path, "0", status=FAILED, error="ValueError: NaN loss")
    job(tmp_path, "1", status=FAILED, error="OutOfMemoryError")
    frame = summary_frame(tmp_path)
    stop_if_no_trial_finished(sweep_config(tmp_path, n_trials=3), frame)  # a trial still to come
    stop_if_no_trial_finished(sweep_config(tmp_path), frame)  # a grid sweep: no n_trials
    assert capsys.readouterr().err == ""
    with pytest.raises(SystemExit) as exited:
        stop_if_no_trial_finished(sweep_config(tmp_path, n_trials=2), frame)
    assert exited.value.code == USER_ERROR_EXIT_CODE == 2
    error = capsys.readouterr().err
    assert error.startswith("error: none of the 2 trials of the search finished")
    assert str(tmp_path / SUMMARY_MD) in error and "the first one (0): ValueError: NaN loss" in error


def test_one_finished_trial_lets_the_search_end_normally(tmp_path):
    job(tmp_path, "0", status=FAILED, error="ValueError: NaN loss")
    job(tmp_path, "1", metrics={"val/f1_macro": 0.5})
    stop_if_no_trial_finished(sweep_config(tmp_path, n_trials=2), summary_frame(tmp_path))
