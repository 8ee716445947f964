"""Pick numeric precision by hardware: bf16 is fast on recent GPUs and hundreds of times slower on plain CPUs."""

from __future__ import annotations

import torch

from review_cls.errors import ConfigError

AUTO = "auto"


def resolve_precision(requested: str | int | None, accelerator: str = AUTO) -> str:
    """``auto`` -> bf16-mixed on GPUs with bf16, 16-mixed on older GPUs, 32-true on CPU; anything else unchanged."""
    if requested is not None and str(requested) != AUTO:
        return str(requested)
    gpu_wanted = accelerator in (AUTO, "gpu", "cuda")
    if gpu_wanted and torch.cuda.is_available():
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return "32-true"


def resolve_device(requested: str = AUTO, setting: str = "device") -> torch.device:
    """``auto`` -> the first GPU when there is one, else the CPU; ``cpu``, ``cuda``, ``cuda:N`` when this machine has
    it, else a ConfigError naming ``setting`` and the values that work here."""
    text = str(requested)
    if text == AUTO:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    here = f"cuda, cuda:0 ... cuda:{gpus - 1}" if gpus else "no CUDA GPU on this machine"
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        device = None
    if device is None or device.type not in ("cpu", "cuda") or (device.type == "cuda" and (device.index or 0) >= gpus):
        raise ConfigError(f"{setting}={text} is not usable here. Use auto, cpu, or a CUDA GPU ({here}).")
    return device
