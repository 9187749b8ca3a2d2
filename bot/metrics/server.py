"""The bot's `/metrics` endpoint: prometheus_client's HTTP server on a thread of its own, so a
scrape still answers while the event loop is busy."""

from __future__ import annotations

import logging
import threading
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

log = logging.getLogger(__name__)


class MetricsServer:
    """Serves a registry at http://host:port/metrics until stopped."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry = REGISTRY) -> None:
        self.host = host
        self.port = port
        self.registry = registry
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Listen; False (logged, the process goes on without metrics) if the port is taken."""
        try:
            self._server, self._thread = start_http_server(self.port, self.host, self.registry)
        except OSError as error:
            log.error("metrics: cannot listen on %s:%s (%s); /metrics is off", self.host, self.port, error)
            return False
        log.info("metrics: serving http://%s:%s/metrics", self.host, self.port)
        return True

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
