"""Catch code that reaches for the network: every outgoing connection and name look-up is refused and
recorded, so a test can assert that nothing tried (rather than that it happened to be quick)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


@contextmanager
def refused_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Yield the list of attempts (address or host name) made while inside; each one fails with OSError.

    Connections to a local Unix socket are let through (nothing leaves the machine that way)."""
    attempts: list[str] = []
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guard(original: Any) -> Any:
        def wrapped(self: socket.socket, address: Any) -> Any:
            if self.family == socket.AF_UNIX:
                return original(self, address)
            attempts.append(f"connect {address!r}")
            raise OSError(f"network refused in this test: {address!r}")

        return wrapped

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(f"getaddrinfo {host!r}")
        raise socket.gaierror(f"name look-up refused in this test: {host!r}")

    with monkeypatch.context() as patch:
        patch.setattr(socket.socket, "connect", guard(connect))
        patch.setattr(socket.socket, "connect_ex", guard(connect_ex))
        patch.setattr(socket, "getaddrinfo", lookup)
        yield attempts
