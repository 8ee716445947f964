"""The server's start and stop: a held port is refused before any worker loads, the stop handlers are the server's
only while it runs, and the shutdown's monitor noise is dropped."""

from __future__ import annotations

import logging
import signal
import socket
import threading

import pytest

from review_cls.errors import ConfigError
from review_cls.serving.server import STOPS, check_port_free, quiet_monitor, set_stop_switch, stops_drain


def test_a_port_another_program_holds_is_refused_naming_it():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"port={port} on 127.0.0.1 cannot be used.*Choose another port"):
            check_port_free("127.0.0.1", port)
    check_port_free("127.0.0.1", port)  # free again once its holder closed it


def test_stop_signals_are_the_servers_while_it_runs_and_restored_after():
    before = {stop: signal.getsignal(stop) for stop in STOPS}
    with stops_drain(object()):
        assert all(signal.getsignal(stop) is not before[stop] for stop in STOPS)
    assert {stop: signal.getsignal(stop) for stop in STOPS} == before


def test_the_stop_switch_is_set_once_the_server_has_made_it():
    class Server:
        _shutdown_event = None

    server = Server()
    setter = threading.Thread(target=set_stop_switch, args=(server,))
    setter.start()
    server._shutdown_event = threading.Event()
    setter.join(timeout=5)
    assert server._shutdown_event.is_set()


def test_only_the_shutdown_monitor_noise_is_dropped():
    record = logging.LogRecord("litserve.server", logging.ERROR, __file__, 1, "Monitoring worker crashed: %s",
                               ("EOFError",), None)
    kept = logging.LogRecord("litserve.server", logging.ERROR, __file__, 1, "Worker 0 died", None, None)
    assert not quiet_monitor(record) and quiet_monitor(kept)
