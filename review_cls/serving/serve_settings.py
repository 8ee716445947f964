"""The settings of ``python -m review_cls.serve`` (conf/serve.yaml) as one checked, frozen object."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import DictConfig

from review_cls.errors import ConfigError
from review_cls.inference.prediction_columns import multilabel_settings
from review_cls.inference.predictor import check_runtime
from review_cls.utils.hardware import resolve_device
from review_cls.utils.settings import flag, path_value, whole_number

# the interfaces LitServe binds: this machine only, or every IPv4 / IPv6 interface
HOSTS = ("127.0.0.1", "0.0.0.0", "::")


@dataclass(frozen=True)
class RequestLimits:
    """What one request may hold; more is answered with a 4xx naming the field, before any worker sees it."""

    max_texts: int
    max_text_chars: int

    @property
    def max_bytes(self) -> int:
        """A body that cannot be within the limits: every character as a 6-byte JSON escape, plus the syntax."""
        return self.max_texts * (self.max_text_chars * 6 + 8) + 1024


@dataclass(frozen=True)
class ServeSettings:
    """conf/serve.yaml: the model served (blended with its TF-IDF baseline, as predict ships it, unless ``blend`` is
    off), where the server listens, how requests are batched and how large one may be."""

    ckpt_path: str
    runtime: str
    device: str
    blend: bool
    host: str
    port: int
    workers: int
    threads: int | None
    max_batch_size: int
    batch_timeout: float
    batch_size: int
    limits: RequestLimits
    timeout: float
    label_separator: str
    low_confidence_margin: float

    @classmethod
    def from_config(cls, cfg: DictConfig) -> ServeSettings:
        """Every setting's type and range, before the model is loaded or a port is taken."""
        check_runtime(cfg.runtime)
        device = str(cfg.device)
        resolve_device(device)
        if cfg.host not in HOSTS:
            raise ConfigError(f"host={cfg.host} cannot be bound; use 127.0.0.1 (this machine only), 0.0.0.0 or ::.")
        port = whole_number(cfg, "port", 1024)
        if port > 65535:
            raise ConfigError(f"port must be a whole number from 1024 to 65535, got {port}.")
        threads = None if cfg.threads is None else whole_number(cfg, "threads", 1)
        timeout = seconds(cfg, "timeout")
        batch_timeout = seconds(cfg, "batch_timeout")
        if timeout <= 0 or not 0 <= batch_timeout < timeout:
            raise ConfigError(f"timeout must be > 0 and batch_timeout in [0, timeout), got timeout={timeout}, "
                              f"batch_timeout={batch_timeout}.")
        label_separator, margin = multilabel_settings(cfg)
        limits = RequestLimits(whole_number(cfg, "max_texts", 1), whole_number(cfg, "max_text_chars", 1))
        return cls(path_value(cfg, "ckpt_path"), cfg.runtime, device, flag(cfg, "blend"), cfg.host, port,
                   whole_number(cfg, "workers", 1), threads, whole_number(cfg, "max_batch_size", 1), batch_timeout,
                   whole_number(cfg, "batch_size", 1), limits, timeout, label_separator, margin)

    @property
    def accelerator(self) -> str:
        """LitServe's name for where the workers run: ONNX Runtime here is CPU only."""
        if self.runtime == "onnx":
            return "cpu"
        return "auto" if self.device == "auto" else resolve_device(self.device).type


def seconds(cfg: DictConfig, key: str) -> float:
    value = cfg.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key} must be a number of seconds, got {value!r}.")
    return float(value)
