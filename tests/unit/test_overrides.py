"""The command line read before any job runs: Hydra's own errors as one ``error:`` line and exit 2, and ``+key``
overrides that nothing would read refused naming the key."""

from __future__ import annotations

import importlib
import logging
import os
import sys

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import open_dict

from review_cls.errors import USER_ERROR_EXIT_CODE, ConfigError
from review_cls.overrides import check_added_keys
from tests.helpers import CONF_DIR


@pytest.fixture
def hydra_config():
    """Compose ``conf/<command>.yaml`` as Hydra does for a run (its overrides and choices in HydraConfig)."""

    def composed(command: str, *overrides: str):
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
            cfg = compose(config_name=command, overrides=list(overrides), return_hydra_config=True)
        HydraConfig.instance().set_config(cfg)
        with open_dict(cfg):
            del cfg["hydra"]
        return cfg

    yield composed
    HydraConfig.instance().cfg = None


def run_command_line(command: str, *arguments: str, monkeypatch, capsys) -> str:
    """``python -m review_cls.<command> ARGUMENTS`` in this process: expect exit 2, return its error output."""
    monkeypatch.setattr(sys, "argv", [f"review_cls.{command}", *arguments])
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    root = logging.getLogger()
    # Hydra points the root logger at this test's captured stderr once it has composed the config: put it back
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    with pytest.raises(SystemExit) as caught:
        importlib.import_module(f"review_cls.{command}").main()
    assert caught.value.code == USER_ERROR_EXIT_CODE
    assert "HYDRA_FULL_ERROR" not in os.environ, "the switch is the command's own, not left for other code"
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("command, arguments, fragment", [
    ("audit", ["help"], "Cannot read the argument 'help': settings are key=value"),
    ("audit", ["data.pathh=x"], "Unknown setting data.pathh (did you mean data.path?)"),
    ("select", ["select.strategyy=margin"], "Unknown setting select.strategyy (did you mean select.strategy?)"),
    ("train", ["+experiment=chinse"], "No option 'chinse' in the config group experiment (did you mean chinese?)"),
    ("audit", ["+audit.folds=3"], "audit.folds is a setting already: set it without the '+'"),
    ("audit", ["paths.log_dir=${oops}"], "Interpolation key 'oops' not found (in hydra.run.dir)"),
])
def test_hydra_errors_end_in_one_error_line_and_exit_2(monkeypatch, capsys, command, arguments, fragment):
    err = run_command_line(command, *arguments, monkeypatch=monkeypatch, capsys=capsys)
    assert fragment in err and "+data.pathh" not in err, err


def test_a_run_folder_under_a_file_is_named(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "reviews.csv"
    blocker.write_text("review,label\n")
    err = run_command_line("audit", f"hydra.run.dir={blocker}/run", monkeypatch=monkeypatch, capsys=capsys)
    assert f"Cannot create the run folder '{blocker}/run' ('{blocker}' is a file, not a folder)" in err
    assert "set hydra.run.dir, or paths.log_dir" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_run_folder_in_a_read_only_folder_is_named(tmp_path, monkeypatch, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    err = run_command_line("audit", f"hydra.run.dir={locked}/run", monkeypatch=monkeypatch, capsys=capsys)
    assert "Cannot create the run folder" in err and "Permission denied" in err


@pytest.mark.parametrize("command, overrides, fragment", [
    ("select", ["+select.strategyy=margin"], "Unknown setting select.strategyy (did you mean select.strategy?)"),
    ("audit", ["+audit.fold=3"], "Unknown setting audit.fold (did you mean audit.folds?)"),
    ("evaluate", ["+runtime=onnx"], "Unknown setting runtime: no config of this command has it"),
    ("train", ["+trainer.max_epoch=3"], "Unknown setting trainer.max_epoch (did you mean trainer.max_epochs?)"),
    ("predict", ["+insight=false"], "Unknown setting insight (did you mean insights?)"),
    ("audit", ["+foo.bar=1"], "Unknown setting foo: no config of this command has it"),
    ("select", ["+select.extra={_target_:lightning.pytorch.callbacks.Timer}"], "Unknown setting select.extra"),
])
def test_an_added_key_nothing_reads_is_refused_naming_it(hydra_config, command, overrides, fragment):
    with pytest.raises(ConfigError) as caught:
        check_added_keys(hydra_config(command, *overrides))
    assert fragment in str(caught.value)


@pytest.mark.parametrize("command, overrides", [
    ("train", ["+trainer.limit_train_batches=2", "+experiment=chinese"]),
    ("train", ["+callbacks.stamp._target_=lightning.pytorch.callbacks.Timer", "+callbacks.stamp.interval=epoch"]),
    ("train", ["+logger.extra._target_=lightning.pytorch.loggers.CSVLogger", "+logger.extra.save_dir=x"]),
    ("train", ["+callbacks.timer={_target_:lightning.pytorch.callbacks.Timer,interval:epoch}"]),
    ("audit", ["++audit.folds=3"]),
    ("train", ["+data.text_colum=review", "+model.lrr=1e-4"]),  # their settings objects name them (tested there)
    ("audit", ["+hydra.job.env_set.TOKENIZERS_PARALLELISM=false"]),
])
def test_keys_a_builder_takes_groups_and_hydras_own_pass(hydra_config, command, overrides):
    check_added_keys(hydra_config(command, *overrides))


def test_without_hydra_or_with_another_runs_config_nothing_is_checked(hydra_config):
    from omegaconf import OmegaConf

    check_added_keys(OmegaConf.create({"seed": 1}))
    hydra_config("audit", "+audit.fold=3")
    check_added_keys(OmegaConf.create({"seed": 1}))  # that run's + keys are not in this config


@pytest.mark.parametrize("user_value", [None, "0"])
def test_hydra_raises_only_while_it_reads_the_command_line(monkeypatch, user_value):
    from review_cls.overrides import hydra_errors_reported, mark_job_started

    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    if user_value is not None:
        monkeypatch.setenv("HYDRA_FULL_ERROR", user_value)
    with hydra_errors_reported("train"):
        assert os.environ["HYDRA_FULL_ERROR"] == "1"
        mark_job_started()  # the job's own errors: Hydra's report, and no switch for the processes it starts
        assert os.environ.get("HYDRA_FULL_ERROR") == user_value
    assert os.environ.get("HYDRA_FULL_ERROR") == user_value
