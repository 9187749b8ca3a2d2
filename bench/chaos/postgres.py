"""A throw-away PostgreSQL cluster of the harness's own (initdb + pg_ctl on a free port in a temp dir),
so restarting it never touches the machine's shared server. As root it runs as the `postgres` user
(the server refuses to run as root)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.services import free_port

DATABASE = "atelier"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, or no user to run them as."""


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))[::-1]), None
    )
    if found is None:
        raise PostgresUnavailable(f"{name} not found (install postgresql)")
    return found


@dataclass
class PostgresCluster:
    """initdb once, then start, stop and restart (fast or immediate) as often as a run needs."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="atelier-pg-")))
    """Its own temp dir: as root it belongs to `postgres`, which could not reach one inside ours."""
    port: int = field(default_factory=free_port)
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def data(self) -> Path:
        return self.workdir / "data"

    def _run(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root and there is no postgres user") from None
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
        if not self.data.exists():
            self._run(_binary("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        options = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.workdir / "postgres.log")
        self._run(
            _binary("pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "-t", "60", "start"
        )
        self._create_database()

    def _create_database(self) -> None:
        query = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-tAc"]
        psql = _binary("psql")
        found = subprocess.run(
            [psql, *query, f"SELECT 1 FROM pg_database WHERE datname='{DATABASE}'"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if found.stdout.strip() != "1":
            self._run(psql, *query, f'CREATE DATABASE "{DATABASE}"')

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def remove(self) -> None:
        """Stop it if running and delete its folder."""
        self.stop("immediate")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def restart(self, mode: str = "fast") -> None:
        """Stop (`fast`: connections closed; `immediate`: the server killed, recovery at start), start."""
        self.stop(mode)
        self.start()
        self.restarts += 1
