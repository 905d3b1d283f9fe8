"""The workers of the conversion pool (``templates.convert.Converter``).

``LocalWorker``: one LibreOffice of our own, run by ``office_worker.py`` in a session of its
own, with its own profile, reached over a socket pair; it is killed (the whole session) when
a conversion hangs. ``RemoteWorker``: a unoserver on a conversion host (XML-RPC); it cannot be
killed from here, so a host that fails is set aside for a while and tried again later.

The pool hands each worker to one caller at a time (``busy``), so a worker converts one
document at a time and needs no lock of its own for that.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import json
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
from typing import Any

from templates.errors import ConverterUnavailable, RenderError
from templates.office_worker import recv_frame, send_frame, slim_docx

log = logging.getLogger(__name__)

# writer_pdf_Export options: PDF/A-2b, fonts embedded (implied by PDF/A), tagged.
PDFA_OPTIONS = ["SelectPdfVersion=2", "UseTaggedPDF=true", "EmbedStandardFonts=true"]
WORKER_SCRIPT = Path(__file__).with_name("office_worker.py")
HUNG = "PDF 转换超时，转换服务已重启，请稍后重试。"


class WorkerDied(ConverterUnavailable):
    """The worker was gone (crashed, killed) when asked: a fresh one may well succeed."""


def _check_pdf(data: bytes) -> bytes:
    if not data.startswith(b"%PDF"):
        raise RenderError("LibreOffice 未返回 PDF 文件")
    return data


class Profile:
    """The LibreOffice profile folder of worker ``number``: ``base/worker-N``.

    Two LibreOffice processes on one profile block each other. The first pool on a data root
    locks ``worker-N.lock`` for as long as it lives, and kills a worker that a process which
    died without stopping it left running on that profile. Another process on the same data
    root (the CLI while the service runs) gets a temporary profile instead, removed at close.
    """

    def __init__(self, base: Path, number: int) -> None:
        self.own = base / f"worker-{number}"
        self._lock_path = base / f"worker-{number}.lock"
        self._pid_file = base / f"worker-{number}.pid"
        self._lock: int | None = None
        self._temp: Path | None = None

    @property
    def temporary(self) -> bool:
        return self._temp is not None

    def claim(self) -> Path:
        if self._lock is not None:
            return self.own
        if self._temp is not None:
            return self._temp
        self.own.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            self._temp = Path(tempfile.mkdtemp(prefix=f"{self.own.name}-tmp-", dir=self.own.parent))
            return self._temp
        self._lock = fd
        self._kill_stale()
        return self.own

    def _kill_stale(self) -> None:
        try:
            pid = int(self._pid_file.read_text())
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return
        if str(self.own.resolve()).encode() in args:
            log.warning("killing LibreOffice worker %d left behind by a process that died", pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)

    def started(self, pid: int) -> None:
        if self._lock is not None:
            self._pid_file.write_text(str(pid))

    def release(self) -> None:
        if self._lock is not None:
            self._pid_file.unlink(missing_ok=True)
            os.close(self._lock)
            self._lock = None
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None


class LocalWorker:
    def __init__(
        self,
        number: int,
        *,
        profiles: Path,
        python: str = "",
        timeout: float = 60,
        start_timeout: float = 90,
        log_file: Path | None = None,
    ) -> None:
        self.number = number
        self.profile = Profile(Path(profiles), number)
        self.python = python or sys.executable
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.log_file = log_file
        self.busy = False  # set by the pool
        self.conversions = 0  # by the running process; the pool recycles it after N
        self.total = 0
        self.starts = 0
        self.version = ""
        self._process: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._state = threading.Lock()  # guards the _process / _sock swap
        self._starting = threading.Lock()  # one start at a time
        self._closed = False

    @property
    def running(self) -> bool:
        process = self._process
        return process is not None and process.poll() is None

    @property
    def pid(self) -> int | None:
        """The worker process, leader of the session that holds its LibreOffice too."""
        process = self._process
        return process.pid if process else None

    def status(self) -> dict[str, Any]:
        running = self.running
        return {
            "worker": self.number, "pid": self.pid if running else None,
            "state": ("busy" if self.busy else "idle") if running else "stopped",
            "conversions": self.conversions, "total": self.total,
            "restarts": max(self.starts - 1, 0),
            "profile": "temporary" if self.profile.temporary else "own",
        }  # fmt: skip

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker unless it runs; return once its LibreOffice answers."""
        with self._starting:
            if self._closed:
                raise ConverterUnavailable("转换服务已关闭")
            if not self.running:
                self.stop(force=True)  # whatever is left of a dead one
                self._spawn()

    def _spawn(self) -> None:
        profile = self.profile.claim()
        ours, theirs = socket.socketpair()
        cmd = [
            self.python, str(WORKER_SCRIPT), "--fd", str(theirs.fileno()),
            "--profile", str(profile.resolve()), "--name", str(self.number),
            "--start-timeout", str(self.start_timeout),
            *(f"--pdf-option={option}" for option in PDFA_OPTIONS),
        ]  # fmt: skip
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            # A session of its own: killpg ends the worker and its LibreOffice together.
            process = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                pass_fds=(theirs.fileno(),), start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            ours.close()
            raise ConverterUnavailable(f"无法启动 LibreOffice 转换进程：{exc}") from exc
        finally:
            theirs.close()
            if out is not subprocess.DEVNULL:
                out.close()
        with self._state:
            self._process, self._sock = process, ours
        self.profile.started(process.pid)
        self._handshake(ours)
        if self._closed:  # closed while starting: leave nothing running
            self.stop(force=True)
            raise ConverterUnavailable("转换服务已关闭")

    def _handshake(self, sock: socket.socket) -> None:
        try:
            kind, body = recv_frame(sock, time.monotonic() + self.start_timeout + 5)
        except TimeoutError:
            self.stop(force=True)
            raise ConverterUnavailable("LibreOffice 转换服务未在规定时间内就绪") from None
        except (OSError, EOFError):
            self.stop(force=True)
            raise ConverterUnavailable(
                "LibreOffice 转换服务启动失败（进程已退出）" + self._log_tail()
            ) from None
        if kind != b"R":
            self.stop(force=True)
            reason = body.decode("utf-8", "replace")
            raise ConverterUnavailable(f"LibreOffice 转换服务启动失败：{reason}")
        self.version = str(json.loads(body)["version"])
        self.conversions = 0
        self.starts += 1
        log.info("LibreOffice worker %d ready (pid %d)", self.number, self.pid)

    def hang_up(self) -> None:
        """Close the socket: a healthy worker then ends its LibreOffice and exits."""
        with self._state:
            sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def stop(self, *, force: bool = False) -> None:
        """End the worker and its LibreOffice; ``force`` for a hung one (SIGKILL at once)."""
        self.hang_up()
        with self._state:
            process, self._process = self._process, None
        if process is None:
            return
        if not force and process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        # A hung or slow one, and whatever of LibreOffice outlived its worker: the session.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)

    def close(self) -> None:
        self._closed = True
        self.stop()
        with self._starting:  # a start in progress has seen _closed and stopped by now
            self.profile.release()

    def _log_tail(self) -> str:
        if not self.log_file or not self.log_file.exists():
            return ""
        tail = self.log_file.read_bytes()[-600:].decode("utf-8", "replace")
        return f"：{tail.strip()}"

    # -- use ---------------------------------------------------------------------------------

    def convert(self, docx: bytes) -> bytes:
        self.start()
        sock = self._sock
        if sock is None:
            raise WorkerDied("LibreOffice 转换进程已停止")
        deadline = time.monotonic() + self.timeout
        try:
            send_frame(sock, b"C", docx, deadline)
            kind, body = recv_frame(sock, deadline)
        except TimeoutError:
            log.error("LibreOffice worker %d hung; killing it", self.number)
            self.stop(force=True)
            raise ConverterUnavailable(HUNG) from None
        except (OSError, EOFError) as exc:
            self.stop(force=True)
            raise WorkerDied(f"LibreOffice 转换进程意外退出：{exc}") from exc
        self.conversions += 1
        self.total += 1
        if kind == b"P":
            return _check_pdf(body)
        message = body.decode("utf-8", "replace")
        if kind == b"E":
            raise ConverterUnavailable(f"LibreOffice 转换失败：{message}")
        self.stop(force=True)
        raise WorkerDied(f"LibreOffice 转换进程出错：{message}")


class TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host):
        conn = super().make_connection(host)
        conn.timeout = self.timeout
        return conn


class RemoteWorker:
    """A unoserver on a conversion host; one conversion at a time, as unoserver does."""

    RETRY_AFTER = 10.0  # seconds a failed host is set aside

    def __init__(self, number: int, url: str, *, timeout: float = 60) -> None:
        self.number = number
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.busy = False
        self.conversions = 0
        self.total = 0
        self.failures = 0
        self.version = ""
        self.down_until = 0.0

    @property
    def down(self) -> bool:
        return time.monotonic() < self.down_until

    @property
    def running(self) -> bool:
        return True  # someone else runs it; whether it answers shows when it is used

    @property
    def pid(self) -> None:
        return None

    def status(self) -> dict[str, Any]:
        state = "down" if self.down else ("busy" if self.busy else "idle")
        return {"worker": self.number, "url": self.url, "state": state,
                "conversions": self.total, "failures": self.failures}  # fmt: skip

    def _proxy(self, timeout: float) -> xmlrpc.client.ServerProxy:
        return xmlrpc.client.ServerProxy(
            self.url, transport=TimeoutTransport(timeout), allow_none=True
        )

    def _failed(self) -> None:
        self.failures += 1
        self.down_until = time.monotonic() + self.RETRY_AFTER

    def start(self) -> None:
        """Ask the host who it is (a host someone else runs is there or not: 3 s at most)."""
        try:
            info = self._proxy(3).info()
        except (OSError, http.client.HTTPException, xmlrpc.client.Error) as exc:
            self._failed()
            raise WorkerDied(f"PDF 转换服务不可用（{self.url}）：{exc}") from exc
        self.version = str(info.get("libreoffice_version") or "unknown")
        self.down_until = 0.0

    def convert(self, docx: bytes) -> bytes:
        if not self.version:
            self.start()
        try:
            package = xmlrpc.client.Binary(slim_docx(docx, purpose="conversion"))
            result = self._proxy(self.timeout + 5).convert(
                None, package, None, "pdf", None, PDFA_OPTIONS
            )
        except TimeoutError as exc:
            log.error("conversion host %s hung", self.url)
            self._failed()
            raise ConverterUnavailable("PDF 转换超时，请稍后重试。") from exc
        except (OSError, http.client.HTTPException) as exc:
            log.warning("conversion host %s unreachable: %s", self.url, exc)
            self._failed()
            self.version = ""
            raise WorkerDied(f"PDF 转换服务不可用：{exc}") from exc
        except xmlrpc.client.Fault as exc:
            raise ConverterUnavailable(f"LibreOffice 转换失败：{exc.faultString}") from exc
        self.conversions += 1
        self.total += 1
        data = result.data if isinstance(result, xmlrpc.client.Binary) else result
        return _check_pdf(data)

    def hang_up(self) -> None:
        pass

    def stop(self, *, force: bool = False) -> None:
        pass

    def close(self) -> None:
        pass
