"""Hydra callback that keeps ``sweep_summary.{csv,md,png}`` up to date in the sweep folder of a multirun."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.core.utils import JobReturn
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from review_cls.sweeps.record import OK

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


class SweepSummary(Callback):
    """Rebuilds the summary after every job (so a sweep killed half-way still has one) and once more at the end,
    when Optuna's ``optimization_results.yaml`` exists. Single runs are left alone."""

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        if config.hydra.mode == RunMode.MULTIRUN:
            self._write(config)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        frame = self._write(config)
        if frame is not None and not frame.empty:
            failed = int((frame["status"] != OK).sum())
            log.info("Sweep summary (%d runs, %d failed): %s", len(frame), failed, Path(config.hydra.sweep.dir))

    @staticmethod
    def _write(config: DictConfig) -> pd.DataFrame | None:
        """Rank in the sweeper's direction (Optuna's ``direction``; a grid sweep maximises)."""
        from review_cls.sweeps.summary import write_sweep_summary

        direction = str(OmegaConf.select(config, "hydra.sweeper.direction", default="maximize"))
        try:
            return write_sweep_summary(config.hydra.sweep.dir, maximize="minimize" not in direction.lower())
        except Exception:  # noqa: BLE001 - a broken summary must never fail the sweep it describes
            log.exception("Could not write the sweep summary in %s", config.hydra.sweep.dir)
            return None
