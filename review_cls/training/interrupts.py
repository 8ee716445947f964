"""Ctrl+C (or SIGTERM) during training: stop cleanly, still test and report the best checkpoint so far, then exit non-zero.

Lightning catches the ``KeyboardInterrupt``, runs its teardown and calls ``sys.exit(1)``; :func:`fit_or_interrupt`
turns that back into a return value so the run's test and report step still happens.
"""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any, NoReturn

import lightning as L

from review_cls.errors import INTERRUPTED_EXIT_CODE, TERMINATED_EXIT_CODE
from review_cls.training.resume import check_resume_fits

log = logging.getLogger(__name__)


def interruption(trainer: L.Trainer) -> tuple[str, int]:
    """What stopped the run, as messages name it, and the exit code a shell gives that signal."""
    if trainer.received_sigterm:
        return "SIGTERM", TERMINATED_EXIT_CODE
    return "Ctrl+C", INTERRUPTED_EXIT_CODE


def fit_or_interrupt(
    trainer: L.Trainer, model: L.LightningModule, datamodule: Any, ckpt_path: str | None
) -> tuple[str, int] | None:
    """``trainer.fit``; when Ctrl+C or SIGTERM stopped it and a best checkpoint exists to test, what stopped it
    (:func:`interruption`, read now: ``trainer.test`` resets Lightning's SIGTERM flag), else ``None``.

    Interrupted before the first checkpoint there is nothing to test: the run exits right away.
    """
    if ckpt_path:
        check_resume_fits(model, ckpt_path, trainer.max_epochs)
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
        return None
    except SystemExit:
        if not trainer.interrupted:
            raise
    # Lightning ignores further Ctrl+C from here on; a second one should still stop the test and report step
    signal.signal(signal.SIGINT, signal.default_int_handler)
    where = f"epoch {trainer.current_epoch}, step {trainer.global_step}"
    name, code = interruption(trainer)
    if not best_checkpoint(trainer):
        stop(f"Training was interrupted ({name}) at {where}, before the first checkpoint; nothing to test or report.",
             code)
    log.warning(
        "Training interrupted (%s) at %s: testing the best checkpoint so far (%s) and writing its reports; "
        "press Ctrl+C to skip them.", name, where, best_checkpoint(trainer),
    )
    return name, code


def fit_or_raise_interrupt(trainer: L.Trainer, model: L.LightningModule, datamodule: Any) -> None:
    """``trainer.fit`` for a job with nothing to test after a stop (an audit's fold): Lightning's ``sys.exit(1)``
    after Ctrl+C is turned back into the ``KeyboardInterrupt`` the command reports (one ``interrupted:`` line saying
    what was kept, exit code 130)."""
    try:
        trainer.fit(model, datamodule=datamodule)
    except SystemExit:
        if trainer.interrupted and not trainer.received_sigterm:
            raise KeyboardInterrupt from None
        raise


def best_checkpoint(trainer: L.Trainer) -> str:
    """Path of the best checkpoint so far, ``""`` when none was written."""
    return trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""


def stop_after_interrupt(trainer: L.Trainer, output_dir: str, how: tuple[str, int]) -> NoReturn:
    """Say what was kept and how to resume, then exit with the code of the signal ``how`` names."""
    name, code = how
    stop(
        f"Training was interrupted ({name}) at epoch {trainer.current_epoch}, step {trainer.global_step}. "
        f"The best checkpoint so far ({best_checkpoint(trainer)}) was tested and its results written to "
        f"{output_dir}. Resume with ckpt_path=last (the newest last.ckpt) or ckpt_path=<path to last.ckpt>.",
        code,
    )


def stop(message: str, code: int = INTERRUPTED_EXIT_CODE) -> NoReturn:
    log.warning("%s", message)
    print(f"interrupted: {message}", file=sys.stderr)
    raise SystemExit(code)
