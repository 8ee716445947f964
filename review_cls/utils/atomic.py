"""Write files and folders so a crash or Ctrl+C leaves the previous good version, never a half-written one."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from review_cls.errors import ConfigError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so no temporary file is ever taken for stale
    fcntl = None


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; it replaces ``path`` only if the block finishes without error.

    The temporary file lives in the same folder, so ``os.replace`` is a rename on one filesystem (atomic).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = _sibling(target, "tmp")
    temporary.touch(exist_ok=False)
    # held while the file is written: a temporary file nobody holds was left by a killed process
    lock = os.open(temporary, os.O_RDONLY)
    try:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield temporary
        os.replace(temporary, target)
    finally:
        os.close(lock)
        temporary.unlink(missing_ok=True)


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporary files :func:`atomic_file` left next to ``path`` when its process was killed.

    Only files named like its own temporaries of ``path`` (``.<name>.<12 hex digits>.tmp``) whose lock no running
    process holds; returns what was removed.
    """
    target = Path(path)
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[0-9a-f]{{12}}\.tmp")
    if fcntl is None or not target.parent.is_dir():
        return []
    removed = []
    for candidate in target.parent.iterdir():
        if pattern.fullmatch(candidate.name) and candidate.is_file() and _unheld(candidate):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def _unheld(path: Path) -> bool:
    lock = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(lock)


@contextmanager
def atomic_dir(path: str | Path, replace: bool = True) -> Iterator[Path]:
    """Yield an empty temporary folder next to ``path``; it becomes ``path`` only if the block finishes.

    An existing ``path`` is swapped out and removed after the new folder is in place (``replace=False`` refuses a
    non-empty one instead, before any work is done). A folder swap takes two renames: a crash between them leaves
    the old folder under a hidden ``.<name>.*.old`` name, never a half-written ``path``.
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"'{target}' exists and is not a folder.")
    if not replace and target.is_dir() and any(target.iterdir()):
        raise FileExistsError(f"'{target}' exists and is not empty.")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = _sibling(target, "tmp")
    temporary.mkdir()
    try:
        yield temporary
        if target.is_dir():
            old = _sibling(target, "old")
            os.replace(target, old)
            os.replace(temporary, target)
            shutil.rmtree(old)
        else:
            os.replace(temporary, target)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def same_file(first: str | Path, second: str | Path) -> bool:
    """The two paths name one file: equal once ``~``, symbolic links and ``..`` are resolved, or hard links to one
    file (``os.path.samefile``)."""
    first, second = Path(first).expanduser(), Path(second).expanduser()
    if first.resolve() == second.resolve():
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:  # either is missing (an output not written yet) or unreadable: not one file
        return False


def refuse_writing_over_inputs(read: Mapping[str, str | Path | None], written: Iterable[tuple[str, str | Path]],
                               replaced_folders: Iterable[tuple[str, str | Path]] = ()) -> None:
    """No command writes over a file it reads, whatever ``overwrite`` says: every file it writes (``written``: the
    setting that places it, and its path) is compared with every file it reads (``read``: path by setting; ``None``
    when not set), and no file it reads may lie in a folder it replaces as a whole (``replaced_folders``, as
    ``written``). Checked before any work."""
    inputs = {setting: Path(path).expanduser() for setting, path in read.items() if path is not None}
    for out_setting, output in written:
        for in_setting, source in inputs.items():
            if same_file(output, source):
                raise ConfigError(
                    f"{in_setting}='{source}' is the file written as '{output}' ({out_setting}): writing it would "
                    f"replace what is being read, whatever overwrite says. Set {out_setting} to write elsewhere.")
    for out_setting, folder in replaced_folders:
        for in_setting, source in inputs.items():
            if _inside(source, Path(folder).expanduser()):
                raise ConfigError(
                    f"{in_setting}='{source}' lies in '{folder}', a folder this command writes as a whole (where "
                    f"{out_setting} puts it): the file would be lost. Move it out of that folder, or change "
                    f"{out_setting}.")


def _inside(path: Path, folder: Path) -> bool:
    """``path`` is ``folder`` or lies in it (links resolved; a hard link elsewhere keeps the file when the folder is
    replaced, so it does not count)."""
    return path.resolve().is_relative_to(folder.resolve())


def file_in_the_way(path: str | Path) -> Path | None:
    """The first of ``path``'s parents that is a file, where a folder had to be made to write ``path``."""
    return next((parent for parent in Path(path).parents if parent.is_file()), None)


def _sibling(target: Path, kind: str) -> Path:
    """A hidden, unique name next to ``target`` (created by the caller, so the umask gives normal permissions)."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.{kind}")
