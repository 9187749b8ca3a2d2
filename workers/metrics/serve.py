"""A worker's `/metrics`: prometheus_client's multiprocess mode, served by the worker's main process.

`prepare` (called by `create_worker_app`, before any metric exists and before the pool forks)
points `PROMETHEUS_MULTIPROC_DIR` at an empty folder of this worker's own, so each prefork child
writes its metrics to files there; on `worker_init` the main process serves the sum over every
child's files, those of children that died included (counters never go backwards when a child is
replaced), while the live-gauge files of dead children are dropped at each scrape.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from celery.signals import worker_init, worker_shutdown

from config.settings import MetricsSettings

log = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"
LIVE_FILE_PREFIXES = (
    "gauge_livesum_",
    "gauge_liveall_",
    "gauge_livemax_",
    "gauge_livemin_",
    "gauge_livemostrecent_",
)


def prepare(settings: MetricsSettings) -> Path | None:
    """Choose and empty this worker's metrics folder, and serve it once the worker starts; None (and
    nothing done) while `metrics.worker_port` is unset."""
    if not settings.worker_port:
        return None
    chosen = settings.multiproc_dir or (Path(os.environ[ENV]) if os.environ.get(ENV) else None)
    folder = chosen or Path(tempfile.mkdtemp(prefix="atelier-worker-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):  # a previous run's files would be summed with this one's
        stale.unlink()
    os.environ[ENV] = str(folder)
    values = sys.modules.get("prometheus_client.values")
    if values is not None:  # imported before the folder was set: metrics made from now on use files
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]
    endpoint = WorkerEndpoint(settings.host, settings.worker_port, folder, remove=chosen is None)
    worker_init.connect(endpoint.start, weak=False, dispatch_uid="atelier-worker-metrics-start")
    worker_shutdown.connect(endpoint.stop, weak=False, dispatch_uid="atelier-worker-metrics-stop")
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SweepingCollector:
    """prometheus_client's MultiProcessCollector over `folder`, after dropping the live-gauge files
    of processes that are gone (a child killed with SIGKILL never says goodbye)."""

    def __init__(self, folder: Path) -> None:
        from prometheus_client.multiprocess import MultiProcessCollector

        self.folder = folder
        self._inner = MultiProcessCollector(None, path=str(folder))

    def sweep(self) -> None:
        for path in self.folder.glob("gauge_live*_*.db"):
            pid = path.stem.rpartition("_")[2]
            if pid.isdigit() and path.name.startswith(LIVE_FILE_PREFIXES) and not _alive(int(pid)):
                path.unlink(missing_ok=True)

    def collect(self) -> Iterator[Any]:
        self.sweep()
        return iter(self._inner.collect())


class WorkerEndpoint:
    """The HTTP server in the worker's main process, started on `worker_init`."""

    def __init__(self, host: str, port: int, folder: Path, *, remove: bool) -> None:
        self.host = host
        self.port = port
        self.folder = folder
        self.remove = remove
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self, **_: Any) -> None:
        from prometheus_client import CollectorRegistry, start_http_server

        registry = CollectorRegistry()
        registry.register(SweepingCollector(self.folder))  # type: ignore[arg-type]
        try:
            self._server, self._thread = start_http_server(self.port, self.host, registry)
        except OSError as error:
            log.error("metrics: cannot listen on %s:%s (%s); /metrics is off", self.host, self.port, error)
            return
        log.info(
            "metrics: serving http://%s:%s/metrics (pool files in %s)", self.host, self.port, self.folder
        )

    def stop(self, **_: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self.remove:
            shutil.rmtree(self.folder, ignore_errors=True)
