"""A run that fails must not leave a folder that looks like a real run.

Rule: when a run stops with an error (a :class:`ReviewClsError` or any other) and its folder holds nothing but what
Hydra and the data split wrote (``.hydra/``, ``*.log``, ``split.json``), the folder is removed: nothing that cost compute is lost. Anything
else in it (checkpoints, TensorBoard events, reports) is kept, and ``error.txt`` next to it says why the run stopped.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lightning.pytorch.utilities import rank_zero_only

from review_cls.errors import ReviewClsError
from review_cls.utils.atomic import atomic_file
from review_cls.utils.run_folder import ERROR_TXT, SPLIT_JSON

log = logging.getLogger(__name__)
ERROR_FILE = ERROR_TXT
SETUP_ONLY = (".hydra", SPLIT_JSON)


def settle_failed_run(run_dir: Path, error: BaseException) -> None:
    """Remove a run folder that holds only setup files; otherwise write ``error.txt`` into it."""
    if not run_dir.is_dir():
        return
    entries = list(run_dir.iterdir())
    setup_only = all(entry.name in SETUP_ONLY or (entry.is_file() and entry.suffix == ".log") for entry in entries)
    if setup_only and not _holds_working_dir(run_dir):
        shutil.rmtree(run_dir)
        log.info("Removed run folder %s: the run failed before it produced anything.", run_dir)
        return
    with atomic_file(run_dir / ERROR_FILE) as temporary:
        reason = error if isinstance(error, ReviewClsError) else f"{type(error).__name__}: {error}"
        temporary.write_text(f"This run stopped with an error; keep what it wrote only as partial results.\n\n{reason}\n")


@contextmanager
def tidy_run_dir_on_error(output_dir: str | Path) -> Iterator[None]:
    """On any error inside the block, settle ``output_dir`` (see :func:`settle_failed_run`) and re-raise.

    Ctrl+C is not an error here: training stops cleanly and reports (training/interrupts.py).
    """
    try:
        yield
    except Exception as error:
        if rank_zero_only.rank == 0:  # one process of a multi-GPU run tidies the shared folder
            try:
                settle_failed_run(Path(str(output_dir)), error)
            except OSError as cleanup_error:  # never let tidying up hide the real error
                log.warning("Could not tidy up the failed run's folder: %s", cleanup_error)
        raise


def _holds_working_dir(folder: Path) -> bool:
    """Never remove the folder the user runs from (``hydra.run.dir=.``) or one above it."""
    here = Path.cwd().resolve()
    folder = folder.resolve()
    return folder == here or folder in here.parents
