"""Ctrl+C during fit: tested and reported when a best checkpoint exists, exit 130 otherwise; other exits pass."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from review_cls.errors import INTERRUPTED_EXIT_CODE
from review_cls.training.interrupts import fit_or_interrupt, fit_or_raise_interrupt, stop_after_interrupt


class FakeTrainer:
    """Fits by raising what Lightning raises after Ctrl+C (SystemExit with ``interrupted`` set), or nothing."""

    def __init__(self, exit_code: int | None, interrupted: bool, best: str) -> None:
        self.exit_code, self.interrupted = exit_code, interrupted
        self.checkpoint_callback = SimpleNamespace(best_model_path=best)
        self.current_epoch, self.global_step = 1, 9
        self.received_sigterm = False

    def fit(self, model, datamodule=None, ckpt_path=None) -> None:
        if self.exit_code is not None:
            raise SystemExit(self.exit_code)


def test_a_finished_fit_is_not_an_interrupt():
    assert fit_or_interrupt(FakeTrainer(None, False, ""), None, None, None) is None


def test_ctrl_c_with_a_best_checkpoint_goes_on_to_test_and_report(monkeypatch):
    import signal

    monkeypatch.setattr(signal, "signal", lambda *args: None)  # leave the test runner's own SIGINT handler alone
    assert fit_or_interrupt(FakeTrainer(1, True, "best.ckpt"), None, None, None) == ("Ctrl+C", 130)


def test_sigterm_is_named_and_exits_143(monkeypatch, capsys):
    import signal

    monkeypatch.setattr(signal, "signal", lambda *args: None)
    trainer = FakeTrainer(1, True, "best.ckpt")
    trainer.received_sigterm = True
    how = fit_or_interrupt(trainer, None, None, None)
    assert how == ("SIGTERM", 143)
    trainer.received_sigterm = False  # trainer.test resets Lightning's flag: the name is carried, not re-read
    with pytest.raises(SystemExit) as caught:
        stop_after_interrupt(trainer, "runs/x", how)
    assert caught.value.code == 143 and "interrupted (SIGTERM)" in capsys.readouterr().err


def test_ctrl_c_before_any_checkpoint_exits_130_saying_so(monkeypatch, capsys):
    import signal

    monkeypatch.setattr(signal, "signal", lambda *args: None)
    with pytest.raises(SystemExit) as caught:
        fit_or_interrupt(FakeTrainer(1, True, ""), None, None, None)
    assert caught.value.code == INTERRUPTED_EXIT_CODE == 130
    assert "before the first checkpoint" in capsys.readouterr().err


def test_another_exit_during_fit_is_not_swallowed():
    with pytest.raises(SystemExit) as caught:
        fit_or_interrupt(FakeTrainer(3, False, "best.ckpt"), None, None, None)
    assert caught.value.code == 3


def test_after_the_report_the_command_exits_130_naming_how_to_resume(capsys):
    with pytest.raises(SystemExit) as caught:
        stop_after_interrupt(FakeTrainer(None, True, "best.ckpt"), "runs/x", ("Ctrl+C", 130))
    assert caught.value.code == 130
    assert "ckpt_path=last" in capsys.readouterr().err


def test_a_fit_with_nothing_to_test_after_it_hands_ctrl_c_back_to_the_command():
    fit_or_raise_interrupt(FakeTrainer(None, False, ""), None, None)
    with pytest.raises(KeyboardInterrupt):  # the command prints its interrupted: line and exits 130
        fit_or_raise_interrupt(FakeTrainer(1, True, ""), None, None)
    with pytest.raises(SystemExit, match="3"):  # any other exit passes unchanged
        fit_or_raise_interrupt(FakeTrainer(3, False, ""), None, None)
