"""The one command wrapper: project errors become a message and exit 2, Ctrl+C and SIGTERM one line and 130 / 143,
a failed run's folder is tidied; --help is read from conf/ without Hydra composing, --hydra-help is still Hydra's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from omegaconf import OmegaConf

from review_cls.cli import refuse_options_in_subfolders, run_command
from review_cls.command_help import CONF, help_text
from review_cls.errors import INTERRUPTED_EXIT_CODE, TERMINATED_EXIT_CODE, DataError
from tests.helpers import REPO_ROOT


def test_run_command_turns_project_errors_into_exit_2(capsys):
    def job(cfg):
        raise DataError("Data file 'x.csv' does not exist.")

    with pytest.raises(SystemExit) as caught:
        run_command(job, None)
    assert caught.value.code == 2
    assert "error: Data file 'x.csv' does not exist." in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["+experiment=rdrop"], ["-m", "+experiment=chinese, rdrop", "seed=1"]])
def test_an_option_typed_without_its_subfolder_stops_with_an_error_naming_the_one_to_type(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        refuse_options_in_subfolders("train", argv)
    assert caught.value.code == 2
    assert capsys.readouterr().err.strip() == ("error: +experiment=rdrop: there is no conf/experiment/rdrop.yaml; "
                                               "use +experiment=ablation/rdrop (conf/experiment/ablation/rdrop.yaml)")


@pytest.mark.parametrize("argv", [["+experiment=ablation/rdrop"], ["+experiment=focal_dropout03,chinese"],
                                  ["+experiment=nope"], ["+experiment/ablation=glob(*)"], ["model.rdrop_alpha=1"]])
def test_options_that_exist_and_unknown_ones_go_on_to_hydra(argv, capsys):
    refuse_options_in_subfolders("train", argv)
    refuse_options_in_subfolders("predict", ["+experiment=rdrop"])  # a command without appended groups
    assert capsys.readouterr().err == ""


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


def test_sigterm_stops_a_command_as_ctrl_c_does_and_the_handler_is_put_back(capsys):
    """A command that is not training: SIGTERM raises inside the job, one line names it, exit 143."""
    before = signal.getsignal(signal.SIGTERM)

    def job(cfg):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this returns

    with pytest.raises(SystemExit) as caught:
        run_command(job, OmegaConf.create({"task_name": "export"}), interrupted=lambda cfg: "nothing was written.")
    assert caught.value.code == TERMINATED_EXIT_CODE
    assert "interrupted: export stopped (SIGTERM); nothing was written." in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_worker_forked_by_the_job_dies_of_sigterm_without_a_traceback(capfd):
    """Worker pools (cleanlab's) inherit the command's SIGTERM handler and are stopped with SIGTERM when done."""
    import multiprocessing

    exitcodes = []

    def job(cfg):
        worker = multiprocessing.get_context("fork").Process(target=time.sleep, args=(30,))
        worker.start()
        time.sleep(0.5)  # the worker sleeps inside time.sleep, where the signal lands
        worker.terminate()
        worker.join(10)
        exitcodes.append(worker.exitcode)

    run_command(job, OmegaConf.create({}))
    assert exitcodes == [-signal.SIGTERM], "killed by the signal, as without the command's handler"
    assert "Terminated" not in capfd.readouterr().err


def test_training_commands_leave_sigterm_to_lightning_and_ctrl_c_gets_one_line(capsys):
    seen = []

    def job(cfg):
        seen.append(signal.getsignal(signal.SIGTERM))
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as caught:
        run_command(job, OmegaConf.create({}), sigterm=False)
    assert seen == [signal.getsignal(signal.SIGTERM)], "no handler of run_command's while the job runs"
    assert caught.value.code == INTERRUPTED_EXIT_CODE
    assert capsys.readouterr().err.strip() == "interrupted: test_cli stopped (Ctrl+C)."


def test_a_failed_run_with_a_run_folder_leaves_no_setup_only_folder(tmp_path, capsys):
    run_dir = tmp_path / "run"
    (run_dir / ".hydra").mkdir(parents=True)

    def job(cfg):
        raise DataError("Data file 'x.csv' does not exist.")

    cfg = OmegaConf.create({"paths": {"output_dir": str(run_dir)}})
    with pytest.raises(SystemExit):
        run_command(job, cfg, run_folder=True)
    assert not run_dir.exists()
    (run_dir / ".hydra").mkdir(parents=True)
    with pytest.raises(SystemExit):
        run_command(job, cfg)  # a command without a run folder of its own leaves folders alone
    assert run_dir.is_dir()
