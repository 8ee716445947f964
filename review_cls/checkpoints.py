"""Find and open checkpoints safely: ``weights_only=True`` and errors that say what is wrong."""

from __future__ import annotations

from pathlib import Path

from review_cls.errors import CheckpointError

LAST = "last"


def resolve_ckpt_path(ckpt_path: str | None, log_dir: Path) -> str | None:
    """``last`` -> the newest ``last.ckpt`` under ``log_dir``; a path must exist; ``None`` stays ``None``."""
    if ckpt_path is None:
        return None
    if str(ckpt_path) == LAST:
        candidates = sorted(log_dir.glob("**/checkpoints/last.ckpt"), key=lambda path: path.stat().st_mtime)
        if not candidates:
            raise CheckpointError(f"ckpt_path=last: no checkpoints/last.ckpt anywhere under '{log_dir}'.")
        return str(candidates[-1])
    if not Path(ckpt_path).is_file():
        raise CheckpointError(f"Checkpoint '{ckpt_path}' does not exist.")
    return str(ckpt_path)
