"""The project's error types end a command with the user-error exit status; the stop codes follow the shell's."""

from __future__ import annotations

import signal

import pytest

from review_cls.cli import run_command
from review_cls.errors import (
    INTERRUPTED_EXIT_CODE,
    TERMINATED_EXIT_CODE,
    USER_ERROR_EXIT_CODE,
    CheckpointError,
    ConfigError,
    DataError,
    ReviewClsError,
    TrainingDivergedError,
)


@pytest.mark.parametrize("error", [DataError, ConfigError, CheckpointError, TrainingDivergedError])
def test_every_project_error_ends_a_command_with_the_user_error_status_and_its_message(error, capsys):
    def job(cfg):
        raise error("the column 'text' is missing")

    with pytest.raises(SystemExit) as stopped:
        run_command(job, None, sigterm=False)
    assert stopped.value.code == USER_ERROR_EXIT_CODE
    assert issubclass(error, ReviewClsError)
    assert "error: the column 'text' is missing" in capsys.readouterr().err


def test_an_error_outside_the_project_types_is_not_turned_into_a_user_error():
    def job(cfg):
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        run_command(job, None, sigterm=False)


def test_stop_codes_are_128_plus_the_signal_number_as_shells_report_them():
    assert INTERRUPTED_EXIT_CODE == 128 + signal.SIGINT
    assert TERMINATED_EXIT_CODE == 128 + signal.SIGTERM
    assert USER_ERROR_EXIT_CODE not in (0, 1, INTERRUPTED_EXIT_CODE, TERMINATED_EXIT_CODE)
