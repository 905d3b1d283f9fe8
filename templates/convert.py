"""PDF conversion through a warm LibreOffice listener (unoserver).

``Converter`` starts ``unoserver`` on demand on two free loopback ports, with its own
LibreOffice profile, restarts it when it has died, and kills it when a conversion
hangs. Conversions are serialised: one LibreOffice converts one document at a time.
It can also talk to an already running unoserver (``Converter(url=...)``).
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
import threading
import time
import xmlrpc.client
from pathlib import Path

from templates.errors import ConverterUnavailable, RenderError

log = logging.getLogger(__name__)

# writer_pdf_Export options: PDF/A-2b, fonts embedded (implied by PDF/A), tagged.
PDFA_OPTIONS = ["SelectPdfVersion=2", "UseTaggedPDF=true", "EmbedStandardFonts=true"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host):
        conn = super().make_connection(host)
        conn.timeout = self.timeout
        return conn


class Converter:
    def __init__(
        self,
        *,
        profile_dir: Path | None = None,
        url: str = "",
        python: str = "",
        timeout: float = 60,
        start_timeout: float = 90,
        log_file: Path | None = None,
    ) -> None:
        self.profile_dir = Path(profile_dir) if profile_dir else None
        self.external_url = url.rstrip("/")
        self.python = python or sys.executable
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.log_file = log_file
        self._process: subprocess.Popen | None = None
        self._url = self.external_url
        self._info: dict | None = None
        self._lock = threading.RLock()
        atexit.register(self.stop)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def managed(self) -> bool:
        return not self.external_url

    @property
    def running(self) -> bool:
        if not self.managed:
            return True
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        """Start the listener if it is not running; return once it answers."""
        with self._lock:
            if self.running and self._info is not None:
                return
            if self.managed:
                self._spawn()
            self._info = self._wait_ready()

    def _spawn(self) -> None:
        self.stop()
        assert self.profile_dir is not None, "a managed converter needs a profile folder"
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
        log.info("starting LibreOffice listener on port %d", port)
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            # Its own session, so stop() can end LibreOffice together with unoserver.
            self._process = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            raise ConverterUnavailable(f"无法启动 LibreOffice 转换服务：{exc}") from exc
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        self._url = f"http://127.0.0.1:{port}"

    def _wait_ready(self) -> dict:
        deadline = time.monotonic() + self.start_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.managed and not self.running:
                raise ConverterUnavailable(
                    "LibreOffice 转换服务启动失败（进程已退出）" + self._log_tail()
                )
            try:
                return self._proxy(timeout=5).info()
            except (OSError, http.client.HTTPException, xmlrpc.client.Error) as exc:
                last_error = exc
                time.sleep(0.25)
        self.stop()
        raise ConverterUnavailable(f"LibreOffice 转换服务未在规定时间内就绪：{last_error}")

    def stop(self, *, force: bool = False) -> None:
        """End the listener and its LibreOffice; ``force`` for a hung one (SIGKILL at once)."""
        with self._lock:
            process, self._process, self._info = self._process, None, None
            if process is None or process.poll() is not None:
                return
            try:
                os.killpg(process.pid, signal.SIGKILL if force else signal.SIGTERM)
                process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def _log_tail(self) -> str:
        if not self.log_file or not self.log_file.exists():
            return ""
        tail = self.log_file.read_bytes()[-600:].decode("utf-8", "replace")
        return f"：{tail.strip()}"

    def _proxy(self, *, timeout: float) -> xmlrpc.client.ServerProxy:
        return xmlrpc.client.ServerProxy(
            self._url, transport=_TimeoutTransport(timeout), allow_none=True
        )

    # -- use -------------------------------------------------------------------------------

    def libreoffice_version(self) -> str:
        self.start()
        assert self._info is not None
        return str(self._info.get("libreoffice_version") or "unknown")

    def to_pdf(self, docx: bytes) -> bytes:
        """Convert a .docx to PDF/A-2b. Raises ConverterUnavailable on crash or hang."""
        with self._lock:
            for attempt in (1, 2):
                self.start()
                try:
                    result = self._proxy(timeout=self.timeout + 5).convert(
                        None, xmlrpc.client.Binary(docx), None, "pdf", None, PDFA_OPTIONS
                    )
                except TimeoutError as exc:
                    log.error("LibreOffice conversion hung; killing the listener")
                    self.stop(force=True)
                    raise ConverterUnavailable(
                        "PDF 转换超时，转换服务已重启，请稍后重试。"
                    ) from exc
                except (OSError, http.client.HTTPException) as exc:
                    # The listener died (or was killed) since its last use: start afresh once.
                    log.warning("LibreOffice listener unreachable (%s), attempt %d", exc, attempt)
                    self.stop(force=True)
                    if attempt == 2 or not self.managed:
                        raise ConverterUnavailable(f"PDF 转换服务不可用：{exc}") from exc
                    continue
                except xmlrpc.client.Fault as exc:
                    self.stop(force=True)
                    raise ConverterUnavailable(f"LibreOffice 转换失败：{exc.faultString}") from exc
                data = result.data if isinstance(result, xmlrpc.client.Binary) else result
                if not data.startswith(b"%PDF"):
                    raise RenderError("LibreOffice 未返回 PDF 文件")
                return data
        raise AssertionError("unreachable")
