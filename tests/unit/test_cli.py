"""The one command wrapper: project errors become a message and exit 2; --help is read from conf/ without Hydra
composing, --hydra-help is still Hydra's."""

from __future__ import annotations

import subprocess
import sys

import pytest

from review_cls.cli import run_command
from review_cls.command_help import CONF, help_text
from review_cls.errors import DataError
from tests.helpers import REPO_ROOT


def test_run_command_turns_project_errors_into_exit_2(capsys):
    def job(cfg):
        raise DataError("Data file 'x.csv' does not exist.")

    with pytest.raises(SystemExit) as caught:
        run_command(job, None)
    assert caught.value.code == 2
    assert "error: Data file 'x.csv' does not exist." in capsys.readouterr().err


def test_help_lists_every_group_option_and_setting_of_the_command():
    text = help_text("train")
    for group in ("data", "model", "logger", "trainer", "tfidf"):
        options = sorted(path.stem for path in (CONF / group).glob("*.yaml"))
        assert f"  {group}: {', '.join(options)}" in text
    assert "  +experiment: " in text and "chinese" in text.split("+experiment: ")[1].splitlines()[0]
    assert "  baseline=true    # also fit the TF-IDF" in text and "  seed=42" in text
    assert "hydra:" not in text, "Hydra's own groups stay in --hydra-help"


def test_predict_help_shows_the_settings_it_requires():
    result = subprocess.run([sys.executable, "-m", "review_cls.predict", "--help"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "Powered by Hydra" not in result.stdout
    assert "  input=???" in result.stdout and "  runtime=torch" in result.stdout


def test_hydra_help_is_still_hydras():
    result = subprocess.run([sys.executable, "-m", "review_cls.predict", "--hydra-help"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "Hydra (" in result.stdout
