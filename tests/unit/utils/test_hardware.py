"""Precision by hardware."""

import pytest
import torch

from review_cls.utils.hardware import resolve_precision


@pytest.mark.parametrize(
    ("cuda", "bf16", "requested", "expected"),
    [
        (False, False, "auto", "32-true"),
        (True, True, "auto", "bf16-mixed"),
        (True, False, "auto", "16-mixed"),
        (True, True, "32-true", "32-true"),
        (False, False, "bf16-mixed", "bf16-mixed"),
    ],
)
def test_precision_follows_hardware(monkeypatch, cuda, bf16, requested, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: bf16)
    assert resolve_precision(requested) == expected
    assert resolve_precision("auto", accelerator="cpu") == "32-true"
