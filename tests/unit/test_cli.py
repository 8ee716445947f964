"""The one command wrapper: project errors become a message and exit 2."""

from __future__ import annotations

import pytest

from review_cls.cli import run_command
from review_cls.errors import DataError


def test_run_command_turns_project_errors_into_exit_2(capsys):
    def job(cfg):
        raise DataError("Data file 'x.csv' does not exist.")

    with pytest.raises(SystemExit) as caught:
        run_command(job, None)
    assert caught.value.code == 2
    assert "error: Data file 'x.csv' does not exist." in capsys.readouterr().err
