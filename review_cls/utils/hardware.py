"""Pick numeric precision by hardware: bf16 is fast on recent GPUs and hundreds of times slower on plain CPUs."""

from __future__ import annotations

import torch

AUTO = "auto"


def resolve_precision(requested: str | int | None, accelerator: str = AUTO) -> str:
    """``auto`` -> bf16-mixed on GPUs with bf16, 16-mixed on older GPUs, 32-true on CPU; anything else unchanged."""
    if requested is not None and str(requested) != AUTO:
        return str(requested)
    gpu_wanted = accelerator in (AUTO, "gpu", "cuda")
    if gpu_wanted and torch.cuda.is_available():
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return "32-true"


def resolve_device(requested: str = AUTO) -> torch.device:
    """``auto`` -> the first GPU when there is one, else the CPU; anything else (``cpu``, ``cuda:1``) as given."""
    if str(requested) == AUTO:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(str(requested))
