"""A failed run's folder: removed when it holds only setup files, kept and marked otherwise."""

from __future__ import annotations

from review_cls.errors import DataError
from review_cls.training.failed_runs import ERROR_FILE, settle_failed_run


def test_failed_run_folder_with_results_is_kept_and_marked(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "checkpoints" / "last.ckpt").write_bytes(b"weights")
    (run_dir / "train.log").write_text("log")
    settle_failed_run(run_dir, DataError("the reason"))
    assert (run_dir / "checkpoints" / "last.ckpt").read_bytes() == b"weights"
    assert "the reason" in (run_dir / ERROR_FILE).read_text()


def test_failed_run_never_removes_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / ".hydra").mkdir()
    monkeypatch.chdir(tmp_path)
    settle_failed_run(tmp_path, DataError("x"))
    assert (tmp_path / ".hydra").is_dir() and (tmp_path / ERROR_FILE).is_file()


def test_an_unexpected_error_also_settles_the_run_folder(tmp_path):
    """Not only project errors: a bug's exception removes a setup-only folder and marks one with results."""
    import pytest

    from review_cls.training.failed_runs import tidy_run_dir_on_error

    setup_only, with_results = tmp_path / "a", tmp_path / "b"
    for run_dir in (setup_only, with_results):
        (run_dir / ".hydra").mkdir(parents=True)
        (run_dir / "train.log").write_text("")
    (with_results / "checkpoints").mkdir()
    for run_dir in (setup_only, with_results):
        with pytest.raises(OverflowError), tidy_run_dir_on_error(run_dir):
            raise OverflowError("cannot convert float infinity to integer")
    assert not setup_only.exists()
    assert "OverflowError: cannot convert float infinity" in (with_results / ERROR_FILE).read_text()
