"""PDF conversion through a warm LibreOffice listener (unoserver).

``Converter`` starts ``unoserver`` on demand on two free loopback ports, with its own
LibreOffice profile, restarts it when it has died, and kills it when a conversion
hangs. Conversions are serialised: one LibreOffice converts one document at a time.
It can also talk to an already running unoserver (``Converter(url=...)``).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import http.client
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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


def _kill_stale(pid_file: Path, profile: Path) -> None:
    """Kill a listener on ``profile`` whose owner died without stopping it."""
    try:
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
    except (OSError, ValueError):
        return
    if "unoserver" in cmdline and str(profile.resolve()) in cmdline:
        log.warning("killing LibreOffice listener %d left behind by a process that died", pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


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
        self._lock = threading.RLock()  # one start or conversion at a time
        self._state_lock = threading.Lock()  # guards _process / _info swaps
        self._closed = False
        self._profile_lock: int | None = None
        self._temp_profile: Path | None = None
        atexit.register(self.close)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def managed(self) -> bool:
        return not self.external_url

    @property
    def running(self) -> bool:
        if not self.managed:
            return True
        process = self._process
        return process is not None and process.poll() is None

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process else None

    def start(self) -> None:
        """Start the listener if it is not running; return once it answers."""
        with self._lock:
            if self._closed:
                raise ConverterUnavailable("转换服务已关闭")
            if self.running and self._info is not None:
                return
            if self.managed:
                self._spawn()
            self._info = self._wait_ready()

    def _claim_profile(self) -> Path:
        """The profile folder this process may use.

        Two LibreOffice processes on one profile block each other. The first converter of
        a data root locks its profile; if a listener left by a process that died still
        runs on it, it is killed now. A second process on the same data root (say the CLI
        while the service runs) gets a temporary profile of its own.
        """
        assert self.profile_dir is not None, "a managed converter needs a profile folder"
        self.profile_dir.parent.mkdir(parents=True, exist_ok=True)
        if self._profile_lock is None:
            fd = os.open(self.profile_dir.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if self._temp_profile is None:
                    self._temp_profile = Path(
                        tempfile.mkdtemp(prefix="libreoffice-profile-", dir=self.profile_dir.parent)
                    )
                return self._temp_profile
            self._profile_lock = fd
            _kill_stale(self._pid_file, self.profile_dir)
        return self.profile_dir

    @property
    def _pid_file(self) -> Path:
        assert self.profile_dir is not None
        return self.profile_dir.with_suffix(".pid")

    def _spawn(self) -> None:
        self.stop()
        profile = self._claim_profile()
        profile.mkdir(parents=True, exist_ok=True)
        port, uno_port = free_port(), free_port()
        while uno_port == port:
            uno_port = free_port()
        cmd = [
            self.python, "-m", "unoserver.server",
            "--interface", "127.0.0.1", "--uno-interface", "127.0.0.1",
            "--port", str(port), "--uno-port", str(uno_port),
            "--user-installation", str(profile.resolve()),
            "--conversion-timeout", str(int(self.timeout)),
        ]  # fmt: skip
        log.info("starting LibreOffice listener on port %d", port)
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            # Its own session, so stop() can end LibreOffice together with unoserver.
            process = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            raise ConverterUnavailable(f"无法启动 LibreOffice 转换服务：{exc}") from exc
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        with self._state_lock:
            self._process = process
        if profile == self.profile_dir:
            self._pid_file.write_text(str(process.pid))
        self._url = f"http://127.0.0.1:{port}"

    def _wait_ready(self) -> dict:
        # A listener someone else runs is either there or not: do not wait long for it.
        deadline = time.monotonic() + (self.start_timeout if self.managed else 3)
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.managed and not self.running:
                raise ConverterUnavailable(
                    "LibreOffice 转换服务启动失败（进程已退出）" + self._log_tail()
                )
            try:
                return self._proxy(timeout=2).info()
            except (OSError, http.client.HTTPException, xmlrpc.client.Error) as exc:
                last_error = exc
                time.sleep(0.25)
        self.stop()
        raise ConverterUnavailable(f"LibreOffice 转换服务未在规定时间内就绪：{last_error}")

    def stop(self, *, force: bool = False) -> None:
        """End the listener and its LibreOffice; ``force`` for a hung one (SIGKILL at once).

        Does not wait for a conversion or a start in progress: those notice the listener
        is gone and fail (or, unless closed, start a new one).
        """
        with self._state_lock:
            process, self._process, self._info = self._process, None, None
        if process is None:
            return
        if process.poll() is None and not force:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=3)
        # LibreOffice's launcher (oosplash) can outlive a graceful stop: sweep the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)

    def close(self) -> None:
        """Stop the listener for good and give up the profile (at exit)."""
        self._closed = True
        self.stop()
        with self._lock:
            if self._profile_lock is not None:
                self._pid_file.unlink(missing_ok=True)
                os.close(self._profile_lock)
                self._profile_lock = None
            if self._temp_profile is not None:
                shutil.rmtree(self._temp_profile, ignore_errors=True)
                self._temp_profile = None

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
