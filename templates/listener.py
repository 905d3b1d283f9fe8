"""A unoserver of our own on free loopback ports: a conversion host on this machine.

``Converter(url=Listener(...).start())`` converts through it. The test suite shares one
(a LibreOffice start costs seconds) with every app it builds, through ``CONVERTER_URL``.

unoserver runs under a guard (this file run as a script) that holds a pipe from its owner:
when the owner ends, however it ends (a killed test run), the guard ends unoserver and its
LibreOffice, instead of leaving them behind.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path

from templates.errors import ConverterUnavailable
from templates.workers import TimeoutTransport

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Listener:
    def __init__(
        self,
        *,
        profile_dir: Path,
        log_file: Path | None = None,
        python: str = "",
        timeout: float = 60,
        start_timeout: float = 90,
    ) -> None:
        self.profile_dir = Path(profile_dir)
        self.log_file = log_file
        self.python = python or sys.executable
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.url = ""
        self._process: subprocess.Popen | None = None
        atexit.register(self.close)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> str:
        """Start unoserver and its LibreOffice; return its URL once it answers."""
        if self._process is not None and self._process.poll() is None:
            return self.url
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        port, uno_port = free_port(), free_port()
        while uno_port == port:
            uno_port = free_port()
        cmd = [
            self.python, "-m", "unoserver.server",
            "--interface", "127.0.0.1", "--uno-interface", "127.0.0.1",
            "--port", str(port), "--uno-port", str(uno_port),
            "--user-installation", str(self.profile_dir.resolve()),
            "--conversion-timeout", str(int(self.timeout)),
        ]  # fmt: skip
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            # Its own session, so close() ends LibreOffice together with unoserver.
            self._process = subprocess.Popen(
                [sys.executable, __file__, *cmd], stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.PIPE, start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            raise ConverterUnavailable(f"无法启动 unoserver：{exc}") from exc
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ConverterUnavailable("unoserver 启动失败（进程已退出）")
            try:
                xmlrpc.client.ServerProxy(self.url, transport=TimeoutTransport(2)).info()
                return self.url
            except (OSError, http.client.HTTPException, xmlrpc.client.Error):
                time.sleep(0.25)
        self.close()
        raise ConverterUnavailable("unoserver 未在规定时间内就绪")

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin:
            process.stdin.close()  # the guard's cue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=3)
        # LibreOffice's launcher (oosplash) can outlive a graceful stop: sweep the session.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


def _guard(cmd: list[str]) -> None:
    """Run ``cmd`` until stdin ends (the owner closed it, or died), then end the session."""
    subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    sys.stdin.buffer.read()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the guard outlives its own SIGTERM
    os.killpg(0, signal.SIGTERM)
    time.sleep(3)
    os.killpg(0, signal.SIGKILL)


if __name__ == "__main__":
    _guard(sys.argv[1:])
