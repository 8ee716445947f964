"""Faults: SIGKILL then exact resume, atomic checkpoint writes, NaN stops, Ctrl+C still reports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from review_cls.cli import started
from review_cls.errors import INTERRUPTED_EXIT_CODE, TERMINATED_EXIT_CODE, TrainingDivergedError
from review_cls.jobs.train import run_training
from review_cls.training.builders import build_trainer
from review_cls.training.callbacks import AtomicCheckpointIO
from review_cls.training.failed_runs import ERROR_FILE
from tests.helpers import REPO_ROOT

WAIT_S = 540  # a loaded 2-core CI machine: generous, and never part of an assertion about speed
PAUSE = "tests.guarantees.fault_hooks.PauseAt"


def train_command(tiny_bert_dir: Path, data: Path, log_dir: Path, run_dir: Path, *extra: str) -> list[str]:
    """``python -m review_cls.train`` on the tiny model: 3 epochs of 8 batches, deterministic, no early stop."""
    return [
        sys.executable, "-m", "review_cls.train",
        f"model.pretrained={tiny_bert_dir}", f"data.path={data}", f"paths.log_dir={log_dir}",
        f"hydra.run.dir={run_dir}", "data.batch_size=16", "data.eval_batch_size=32", "trainer.max_epochs=3",
        "trainer.accelerator=cpu", "trainer.deterministic=true", "trainer.log_every_n_steps=1", "model.lr=1e-3",
        "model.dropout=0.1", "callbacks.progress_bar=null", "callbacks.early_stopping=null", *extra,
    ]


def pause_at(epoch: int, batch: int, marker: Path) -> list[str]:
    return [f"+callbacks.pause._target_={PAUSE}", f"+callbacks.pause.epoch={epoch}",
            f"+callbacks.pause.batch={batch}", f"+callbacks.pause.marker={marker}"]


def start(command: list[str], log: Path) -> subprocess.Popen:
    """Start ``command`` as a terminal would: Ctrl+C at its default even when pytest itself was started in the
    background (``cmd &`` leaves SIGINT ignored, the child inherits that, and Python then never raises
    KeyboardInterrupt: the Ctrl+C test would wait out WAIT_S and fail for a reason that is not the code's)."""
    handle = log.open("w")
    return subprocess.Popen(command, cwd=REPO_ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=default_ctrl_c)


def default_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for(marker: Path, process: subprocess.Popen, log: Path) -> None:
    """Until the run has paused at its marker (it then sleeps inside the epoch until signalled)."""
    deadline = time.monotonic() + WAIT_S
    while not marker.exists():
        if process.poll() is not None:
            pytest.fail(f"the run ended (exit {process.returncode}) before pausing:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the run never paused:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def finish(process: subprocess.Popen, log: Path) -> int:
    try:
        return process.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"the run did not finish:\n{log.read_text()[-3000:]}")


def final_metrics(run_dir: Path) -> dict[str, float]:
    """Validation metrics of the last epoch and test metrics of the best checkpoint, from the run's metrics.json."""
    record = json.loads((run_dir / "metrics.json").read_text())
    return {name: value for name, value in record["metrics"].items() if name.startswith(("val/", "test/"))}


def test_sigkill_mid_epoch_then_resume_matches_an_uninterrupted_run(tiny_bert_dir, small_reviews_csv, tmp_path):
    straight_log, killed_log, resumed_log = (tmp_path / f"{name}.log" for name in ("straight", "killed", "resumed"))
    straight_dir, runs = tmp_path / "straight", tmp_path / "runs"
    marker = tmp_path / "paused"
    common = (tiny_bert_dir, small_reviews_csv)
    straight = start(train_command(*common, straight_dir, straight_dir / "run"), straight_log)
    killed = start(train_command(*common, runs, runs / "killed", *pause_at(1, 3, marker)), killed_log)
    wait_for(marker, killed, killed_log)
    assert marker.read_text().startswith("1 3"), "paused in the middle of the second epoch"
    os.kill(killed.pid, signal.SIGKILL)
    assert killed.wait(timeout=WAIT_S) == -signal.SIGKILL
    saved = torch.load(runs / "killed" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert saved["epoch"] == 0, "last.ckpt is the end of the first epoch"

    resumed = start(train_command(*common, runs, runs / "resumed", "ckpt_path=last"), resumed_log)
    assert finish(resumed, resumed_log) == 0, resumed_log.read_text()[-3000:]
    assert finish(straight, straight_log) == 0, straight_log.read_text()[-3000:]
    assert f"Restoring states from the checkpoint path at {runs / 'killed'}" in resumed_log.read_text()

    # the test step ranks the resumed epochs against the best score of the killed run (kept in its folder)
    expected, got = final_metrics(straight_dir / "run"), final_metrics(runs / "resumed")
    assert expected.keys() == got.keys() and {"val/f1_macro", "test/f1_macro"} <= got.keys()
    assert got == pytest.approx(expected, abs=1e-6)
    final = torch.load(straight_dir / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    again = torch.load(runs / "resumed" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert final["epoch"] == again["epoch"] == 2 and final["global_step"] == again["global_step"]
    for name, tensor in final["state_dict"].items():
        torch.testing.assert_close(again["state_dict"][name], tensor, rtol=0, atol=1e-6, msg=name)


@pytest.mark.parametrize(("sent", "name", "code"), [(signal.SIGINT, "Ctrl+C", INTERRUPTED_EXIT_CODE),
                                                  (signal.SIGTERM, "SIGTERM", TERMINATED_EXIT_CODE)])
def test_ctrl_c_stops_cleanly_and_still_tests_and_reports_the_best_checkpoint(tiny_bert_dir, small_reviews_csv, tmp_path,
                                                                             sent, name, code):
    """Ctrl+C, or SIGTERM from a scheduler or `kill`: the message names the signal that stopped the run."""
    log, run_dir, marker = tmp_path / "run.log", tmp_path / "logs" / "run", tmp_path / "paused"
    command = train_command(tiny_bert_dir, small_reviews_csv, tmp_path / "logs", run_dir, *pause_at(1, 2, marker))
    process = start(command, log)
    wait_for(marker, process, log)
    os.kill(process.pid, sent)
    assert finish(process, log) == code, log.read_text()[-3000:]
    output = log.read_text()
    assert f"Training was interrupted ({name}) at epoch 1" in output and "Resume with ckpt_path=last" in output
    assert "Traceback" not in output
    best = list((run_dir / "checkpoints").glob("best-epoch00.ckpt"))
    assert best, "the best checkpoint of the finished epoch is kept"
    record = json.loads((run_dir / "metrics.json").read_text())
    assert 0.0 <= record["metrics"]["test/f1_macro"] <= 1.0, "the best checkpoint was tested and recorded"
    assert (run_dir / "classification_report.json").is_file() and (run_dir / "test_predictions.csv").is_file()


INTERRUPT_BEST_SAVE = ["callbacks.early_stopping=null", "callbacks.model_checkpoint.monitor=epoch",
                       "callbacks.model_checkpoint.mode=max", "trainer.max_epochs=2",
                       "+callbacks.interrupt._target_=tests.guarantees.fault_hooks.InterruptBestSave",
                       "+callbacks.interrupt.epoch=1"]


def test_ctrl_c_during_a_best_checkpoint_save_tests_the_earlier_best(compose_train_cfg, capsys):
    """Every epoch is a new best (ranked by epoch); Ctrl+C lands while epoch 1's best file is being written."""
    cfg = compose_train_cfg(*INTERRUPT_BEST_SAVE)
    run_dir = Path(cfg.paths.output_dir)
    with pytest.raises(SystemExit) as stopped:
        run_training(cfg)
    assert stopped.value.code == INTERRUPTED_EXIT_CODE
    err = capsys.readouterr().err
    assert "best-epoch00.ckpt) was tested" in err, err[-2000:]
    assert [path.name for path in (run_dir / "checkpoints").glob("best-*.ckpt")] == ["best-epoch00.ckpt"]
    record = json.loads((run_dir / "metrics.json").read_text())
    assert 0.0 <= record["metrics"]["test/f1_macro"] <= 1.0


# ---------------------------------------------------------------- NaN / inf


def poison(when: str, epoch: int, batch: int) -> list[str]:
    return ["+callbacks.poison._target_=tests.guarantees.fault_hooks.PoisonWeights", f"+callbacks.poison.epoch={epoch}",
            f"+callbacks.poison.batch={batch}", f"+callbacks.poison.when={when}"]


@pytest.mark.parametrize(("when", "batch", "fragment"), [("start", 3, "Training loss became nan"),
                                                         ("end", 7, "model weights became NaN")])
def test_nan_stops_the_run_naming_the_step_and_keeps_the_last_good_checkpoint(compose_train_cfg, when, batch, fragment):
    """Epoch 0 ends normally; in epoch 1 the loss (or, at the last batch, the weights) turns NaN."""
    cfg = compose_train_cfg("callbacks.early_stopping=null", *poison(when, 1, batch))
    run_dir = Path(cfg.paths.output_dir)
    with pytest.raises(TrainingDivergedError) as caught:
        started(run_training, cfg, run_folder=True)  # as the train command starts it: error.txt in the run folder
    message = str(caught.value)
    assert fragment in message and "epoch 1, step" in message
    assert "lower model.lr" in message and "fp16" in message
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["epoch"] == 0
    assert all(torch.isfinite(tensor).all() for tensor in last["state_dict"].values())
    assert fragment in (run_dir / ERROR_FILE).read_text()


# ---------------------------------------------------------------- atomic checkpoint writes


def test_trainer_from_config_saves_checkpoints_atomically(compose_train_cfg):
    trainer = build_trainer(compose_train_cfg(), [], [])
    assert isinstance(trainer.strategy.checkpoint_io, AtomicCheckpointIO)


def test_failure_mid_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    target = tmp_path / "checkpoints" / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"epoch": 1, "w": torch.ones(3)}, target)
    good = target.read_bytes()

    def half_then_fail(obj, handle):
        handle.write(good[: len(good) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        io.save_checkpoint({"epoch": 2, "w": torch.zeros(3)}, target)
    assert target.read_bytes() == good
    assert [p.name for p in target.parent.iterdir()] == ["last.ckpt"], "no temp file left behind"
    assert torch.load(target, weights_only=True)["epoch"] == 1


def test_sigkill_mid_save_keeps_the_previous_checkpoint(tmp_path):
    """A real kill while half the bytes are written: the old file is untouched (only a hidden temp file remains)."""
    target = tmp_path / "last.ckpt"
    script = f"""
import os, signal, torch
from review_cls.training.callbacks import AtomicCheckpointIO
io = AtomicCheckpointIO()
io.save_checkpoint({{"epoch": 1, "w": torch.ones(1000)}}, {str(target)!r})
def half_then_die(obj, handle):
    handle.write(b"x" * 1000)
    handle.flush()
    os.kill(os.getpid(), signal.SIGKILL)
torch.save = half_then_die
io.save_checkpoint({{"epoch": 2, "w": torch.zeros(1000)}}, {str(target)!r})
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, timeout=WAIT_S, capture_output=True)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]
    saved = torch.load(target, weights_only=True)
    assert saved["epoch"] == 1 and torch.equal(saved["w"], torch.ones(1000))


# ---------------------------------------------------------------- resuming into a new run folder


def test_resumed_checkpoint_callback_keeps_the_earlier_best_score(tmp_path):
    from review_cls.training.callbacks import ResumableModelCheckpoint

    earlier = tmp_path / "earlier" / "checkpoints"
    earlier.mkdir(parents=True)
    (earlier / "best-epoch00.ckpt").write_bytes(b"x")
    state = ResumableModelCheckpoint(dirpath=earlier, monitor="val/f1_macro", mode="max").state_dict()
    state.update(best_model_score=torch.tensor(0.8), best_model_path=str(earlier / "best-epoch00.ckpt"),
                 best_k_models={str(earlier / "best-epoch00.ckpt"): torch.tensor(0.8)})
    resumed = ResumableModelCheckpoint(dirpath=tmp_path / "resumed", monitor="val/f1_macro", mode="max")
    resumed.load_state_dict(state)
    assert float(resumed.best_model_score) == pytest.approx(0.8)
    assert resumed.best_model_path == str(earlier / "best-epoch00.ckpt")

    (earlier / "best-epoch00.ckpt").unlink()
    fresh = ResumableModelCheckpoint(dirpath=tmp_path / "resumed", monitor="val/f1_macro", mode="max")
    fresh.load_state_dict(state)
    assert fresh.best_model_score is None, "a lost best file is not ranked against"
