"""The one wrapper every command shim uses: user errors become one clear message and exit 2, not a traceback;
Ctrl+C and SIGTERM one line and 130 / 143; a failed run's folder is tidied; in a multirun a failed trial is recorded
and the sweep goes on."""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from review_cls.command_help import APPENDED_GROUPS, answer_help, options
from review_cls.errors import INTERRUPTED_EXIT_CODE, TERMINATED_EXIT_CODE, USER_ERROR_EXIT_CODE, ReviewClsError
from review_cls.overrides import check_added_keys, hydra_errors_reported, mark_job_started
from review_cls.utils.run_folder import FAILED, RUN_RECORD, finite_or_none, is_multirun, write_run_record

log = logging.getLogger(__name__)
# the shims' config folder as an absolute path: Hydra reads a relative config_path as a python package ("conf") when
# the shim is called by a console script (review-cls-train) instead of `python -m`, and finds nothing
CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")


def command(config_name: str) -> Callable[[Callable[[DictConfig], Any]], Callable[[], Any]]:
    """``hydra.main`` on ``conf/<config_name>.yaml``, with ``--help`` answered from ``conf/`` before Hydra composes
    anything (review_cls/command_help.py) and Hydra's own errors before the job as ``error: ...``, exit 2
    (review_cls/overrides.py); ``--hydra-help`` and ``--cfg`` stay Hydra's."""

    def decorate(task: Callable[[DictConfig], Any]) -> Callable[[], Any]:
        hydra_main = hydra.main(version_base="1.3", config_path=CONF_DIR, config_name=config_name)(task)

        @functools.wraps(task)
        def main() -> Any:
            answer_help(config_name)
            refuse_options_in_subfolders(config_name)
            with hydra_errors_reported(config_name):
                return hydra_main()

        return main

    return decorate


def refuse_options_in_subfolders(config_name: str, argv: list[str] | None = None) -> None:
    """``+experiment=rdrop`` where the file is ``conf/experiment/ablation/rdrop.yaml``: one ``error:`` line that
    names the option to type (exit 2), where Hydra would list the group's top-level options without it."""
    for arg in sys.argv[1:] if argv is None else argv:
        group, _, value = arg.lstrip("+").partition("=")
        if group not in APPENDED_GROUPS.get(config_name, ()):
            continue
        found = options(group)
        for name in (name.strip() for name in value.split(",")):
            nested = [option for option in found if "/" in option and option.rpartition("/")[2] == name]
            if nested and name not in found:
                print(f"error: +{group}={name}: there is no conf/{group}/{name}.yaml; use +{group}={nested[0]} "
                      f"(conf/{group}/{nested[0]}.yaml)", file=sys.stderr)
                sys.exit(USER_ERROR_EXIT_CODE)


class Terminated(BaseException):
    """SIGTERM as an exception, so a command stops the way Ctrl+C stops it: temporary files are removed on the way
    out (SIGTERM's default action kills the process where it stands)."""


def run_command(job: Callable[[DictConfig], Any], cfg: DictConfig, *, run_folder: bool = False, sigterm: bool = True,
                interrupted: Callable[[DictConfig], str] | None = None) -> float | None:
    """The one start of every command: run ``job``; return the value a sweeper optimises (``cfg.optimized_metric``
    of the job's metrics, ``None`` when the command has none or a trial failed).

    - A ``+key=value`` override that nothing reads, or a :class:`ReviewClsError`, is printed as ``error: ...`` and
      exits with status 2 (no traceback).
    - ``run_folder``: the job writes into ``paths.output_dir``; when it fails, a folder with nothing but setup files
      is removed and any other gets ``error.txt`` (training/failed_runs.py).
    - Ctrl+C, and SIGTERM when ``sigterm`` is true, end the command with one line (what ``interrupted(cfg)`` says
      was kept) and exit 130 / 143. Training commands pass ``sigterm=False``: Lightning catches SIGTERM during a fit
      and the job still tests the best checkpoint (training/interrupts.py).
    - In a multirun any exception is logged, written to the job's ``metrics.json`` as ``failed`` and turned into
      ``None``: Hydra's basic sweeper would otherwise abort the sweep at the first exception, and the Optuna sweeper
      marks a trial whose value is not a float as failed and goes on with the search.
    """
    mark_job_started()
    with _sigterm_raises(sigterm):
        try:
            check_added_keys(cfg)
            if is_multirun() and OmegaConf.select(cfg, "paths.output_dir") is not None:
                result = _run_trial(job, cfg, run_folder)
            else:
                result = started(job, cfg, run_folder)
        except ReviewClsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(USER_ERROR_EXIT_CODE)
        except (KeyboardInterrupt, Terminated) as stop:
            name, code = ("SIGTERM", TERMINATED_EXIT_CODE) if isinstance(stop, Terminated) else \
                ("Ctrl+C", INTERRUPTED_EXIT_CODE)
            command_name = (cfg.get("task_name") if cfg is not None else None) or job.__module__.rsplit(".", 1)[-1]
            note = interrupted(cfg) if interrupted else ""
            print(f"interrupted: {command_name} stopped ({name}){'; ' + note if note else '.'}", file=sys.stderr)
            raise SystemExit(code) from None
    metric = cfg.get("optimized_metric")
    if not metric or not isinstance(result, Mapping):
        return None
    return finite_or_none(result.get(metric))


def started(job: Callable[[DictConfig], Any], cfg: DictConfig, run_folder: bool) -> Any:
    """``job(cfg)``; with ``run_folder``, its ``paths.output_dir`` settled if it fails (training/failed_runs.py)."""
    if not run_folder:
        return job(cfg)
    from review_cls.training.failed_runs import tidy_run_dir_on_error  # imports Lightning: not on --help's path

    with tidy_run_dir_on_error(cfg.paths.output_dir):
        return job(cfg)


@contextmanager
def _sigterm_raises(enabled: bool) -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` inside the block (main thread only: signal handlers live there)."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, functools.partial(_raise_terminated, os.getpid()))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_terminated(command_pid: int, signum: int, frame: Any) -> None:
    """In the command's own process: raise :class:`Terminated`. A process forked from it inherits this handler
    (cleanlab's and joblib's worker pools, which their parent stops with SIGTERM when it is done): there SIGTERM
    ends the process as it would without the handler, instead of a ``Terminated`` traceback from a finished pool."""
    if os.getpid() != command_pid:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise Terminated


def _run_trial(job: Callable[[DictConfig], Any], cfg: DictConfig, run_folder: bool) -> Any:
    try:
        return started(job, cfg, run_folder)
    except Exception as exc:  # noqa: BLE001 - one trial's failure of any kind must not end the sweep
        error = f"{type(exc).__name__}: {exc}"
        log.exception("Trial failed (recorded in %s, the sweep goes on): %s", RUN_RECORD, error)
        write_run_record(cfg.paths.output_dir, {}, cfg.get("optimized_metric", ""), status=FAILED, error=error)
        _release_accelerator_memory()
        return None


def _release_accelerator_memory() -> None:
    """After an out-of-memory trial, hand cached GPU memory back so the next trial starts clean."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
