"""Hydra callback that keeps ``sweep_summary.{csv,md,png}`` up to date in the sweep folder of a multirun."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.core.utils import JobReturn
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from review_cls.errors import USER_ERROR_EXIT_CODE
from review_cls.utils.run_folder import OK

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


class SweepSummary(Callback):
    """Rebuilds the summary after every job (so a sweep killed half-way still has one) and once more at the end,
    when Optuna's ``optimization_results.yaml`` exists. Single runs are left alone."""

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        if config.hydra.mode == RunMode.MULTIRUN:
            frame = self._write(config)
            if frame is not None and not frame.empty:
                stop_if_no_trial_finished(config, frame)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        frame = self._write(config)
        if frame is not None and not frame.empty:
            failed = int((frame["status"] != OK).sum())
            log.info("Sweep summary (%d runs, %d failed): %s", len(frame), failed, Path(config.hydra.sweep.dir))

    @staticmethod
    def _write(config: DictConfig) -> pd.DataFrame | None:
        """Rank in the sweeper's direction (Optuna's ``direction``; a grid sweep maximises)."""
        from review_cls.sweeps.sweep_summary import write_sweep_summary

        direction = str(OmegaConf.select(config, "hydra.sweeper.direction", default="maximize"))
        try:
            return write_sweep_summary(config.hydra.sweep.dir, maximize="minimize" not in direction.lower())
        except Exception:  # noqa: BLE001 - a broken summary must never fail the sweep it describes
            log.exception("Could not write the sweep summary in %s", config.hydra.sweep.dir)
            return None


def stop_if_no_trial_finished(config: DictConfig, frame: pd.DataFrame) -> None:
    """After the last trial of a search (``hydra.sweeper.n_trials``) in which none finished, exit 2 with an
    ``error:`` line naming the summary and the first trial's error.

    The Optuna plugin would next ask its study for the best trial, and end in optuna's bare ``ValueError: No trials
    are completed yet`` and a traceback, though the summary already says what went wrong in each trial.
    """
    from review_cls.sweeps.sweep_summary import SUMMARY_MD

    trials = OmegaConf.select(config, "hydra.sweeper.n_trials")
    if trials is None or len(frame) < trials or frame["status"].eq(OK).any():
        return
    first = frame.iloc[0]  # failed runs keep their job order
    summary = Path(config.hydra.sweep.dir) / SUMMARY_MD
    print(f"error: none of the {len(frame)} trials of the search finished, so there is no best trial. Each "
          f"trial's error is in {summary}; the first one ({first['run']}): {first['error']}", file=sys.stderr)
    sys.exit(USER_ERROR_EXIT_CODE)
