"""The LitServer that serves a review model, and how a stop signal drains it: the HTTP servers answer the requests in
flight, then the model workers stop."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from review_cls.errors import ConfigError
from review_cls.serving.serve_settings import ServeSettings

log = logging.getLogger(__name__)
STOPS = (signal.SIGTERM, signal.SIGINT)


def build_server(settings: ServeSettings, metadata: dict[str, Any]) -> Any:
    """The LitServer: ``workers`` processes with the model, requests checked before they are queued for them, a
    worker that dies restarted."""
    from litserve import LitServer

    from review_cls.serving.api import ReviewAPI
    from review_cls.serving.requests import RequestCheck

    return LitServer(ReviewAPI(settings), accelerator=settings.accelerator, workers_per_device=settings.workers,
                     timeout=settings.timeout, middlewares=[(RequestCheck, {"limits": settings.limits})],
                     model_metadata=metadata, restart_workers=True)


@contextmanager
def stops_drain(server: Any) -> Iterator[None]:
    """SIGTERM and Ctrl+C stop ``server`` the way LitServe stops itself: its HTTP servers first, which answer the
    requests in flight (uvicorn's graceful shutdown), then its model workers; a stop while the workers load lets them
    finish loading first. The processes LitServe forks inherit the handler and leave the signal to their own."""
    server_pid = os.getpid()

    def drain(signum: int, frame: Any) -> None:
        if os.getpid() != server_pid:
            return
        log.info("%s: answering the requests in flight, then stopping.", signal.Signals(signum).name)
        logging.getLogger("litserve.server").addFilter(quiet_monitor)
        threading.Thread(target=set_stop_switch, args=(server,), daemon=True).start()

    previous = {stop: signal.signal(stop, drain) for stop in STOPS}
    try:
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def set_stop_switch(server: Any) -> None:
    """Set LitServe's own stop switch, once ``run()`` has made it. Not an exception raised in the signal handler: that
    can land in code that swallows it (a fork's logging lock). Not in the handler's thread: the main thread may be
    inside a call on the same connection to LitServe's process manager."""
    while getattr(server, "_shutdown_event", None) is None:
        time.sleep(0.05)
    server._shutdown_event.set()


def quiet_monitor(record: logging.LogRecord) -> bool:
    """Drop the error LitServe's worker monitor logs when it polls the process manager LitServe has just shut down
    (noise of every shutdown, not a fault)."""
    return not record.getMessage().startswith("Monitoring worker crashed")


def check_port_free(host: str, port: int) -> None:
    """A port another program holds is a ConfigError now, not a traceback from uvicorn after the workers loaded."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"port={port} on {host} cannot be used ({exc.strerror}): another server holds it? "
                              "Choose another port=...") from exc
