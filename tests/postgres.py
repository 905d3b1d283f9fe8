"""A real PostgreSQL for the test session: Debian's server, in a temporary folder.

PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to the
``postgres`` user the Debian package creates and every server command runs as that user. The
server listens on a unix socket in the cluster's own folder (no port to collide with) and on
a free loopback port for tools that want TCP. Each test gets a database of its own.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")
_names = itertools.count(1)


def available() -> bool:
    return (BIN / "initdb").exists()


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running cluster: ``url(name)`` names one of its databases, ``create()`` makes one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = _free_port()

    def start(self) -> Server:
        subprocess.run(
            _as_owner([str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                       "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
            check=True, capture_output=True,
        )  # fmt: skip
        # A throw-away cluster: durability settings off, so the tests spend no time on fsync.
        options = " ".join([
            f"-k {self.root} -p {self.port} -h 127.0.0.1", "-c fsync=off",
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        ])  # fmt: skip
        subprocess.run(
            _as_owner([str(BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-w",
                       "-l", str(self.root / "server.log"), "start"]),
            check=True, capture_output=True,
        )  # fmt: skip
        return self

    def stop(self) -> None:
        subprocess.run(_as_owner([str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                                  "stop"]), capture_output=True)  # fmt: skip

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.root}&port={self.port}"

    def create(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = f"hetong_{os.getpid()}_{next(_names)}"
        subprocess.run(
            [str(BIN / "psql"), "-h", str(self.root), "-p", str(self.port),
             "-U", "postgres", "-d", "postgres", "-qc", f'CREATE DATABASE "{name}"'],
            check=True, capture_output=True,
        )  # fmt: skip
        return self.url(name)


@contextmanager
def running() -> Iterator[Server]:
    """Start a cluster for the duration of the block, then remove every trace of it."""
    root = Path(tempfile.mkdtemp(prefix="hetong-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    root.chmod(0o700)
    server = Server(root)
    try:
        server.start()
        deadline = time.monotonic() + 30
        while not (root / f".s.PGSQL.{server.port}").exists():
            assert time.monotonic() < deadline, (root / "server.log").read_text()
            time.sleep(0.1)
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
