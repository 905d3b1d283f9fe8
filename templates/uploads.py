"""Uploaded PDFs are hostile until a bounded worker has checked and cleaned them.

``inspect_upload`` never parses the upload in this process. It starts
``python -m templates.upload_worker`` in its own process group, feeds it the bytes on stdin and
reads back one JSON header line followed by the clean PDF. The worker lowers its own CPU,
address-space and file-size limits before it reads the upload (see ``upload_worker``); this side
enforces the wall clock, caps what it reads back, and kills the whole group on any overrun, so a
compression bomb or a parser loop costs seconds of one child process and leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MiB = 1024 * 1024
WORKER = "templates.upload_worker"
CHUNK = 64 * 1024
STDERR_KEPT = 16 * 1024  # the tail of the worker's stderr, for the log when it dies

MESSAGES = {
    "empty": "文件为空。",
    "too_large": "文件过大（上限 {max_bytes}）。",
    "not_pdf": "不是 PDF 文件。",
    "encrypted": "PDF 已加密，请上传未加密的文件。",
    "damaged": "PDF 文件已损坏，无法读取。",
    "no_pages": "PDF 没有页面。",
    "pages": "PDF 页数超过上限（{max_pages} 页）。",
    "decompressed": "PDF 解压后内容超过上限（{max_decompressed}）。",
    "page_content": "PDF 单页内容超过上限（{max_page_content}），文件可能被构造为耗尽资源。",
    "structure": "PDF 结构嵌套过深或对象过多，超出解析上限。",
    "cpu": "检查 PDF 超时（{cpu_seconds} 秒），文件可能被构造为耗尽资源。",
    "wall": "检查 PDF 超时（{wall_seconds} 秒），文件可能被构造为耗尽资源。",
    "memory": "检查 PDF 所需内存超过上限。",
    "output": "PDF 清理后的结果超过上限。",
}


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 20 * MiB  # the upload itself
    max_pages: int = 200
    max_decompressed: int = 64 * MiB  # all decoded non-image streams together
    max_page_content: int = 4 * MiB  # the decoded drawing instructions of one page
    max_text: int = 200_000  # characters of extracted text kept
    cpu_seconds: int = 10  # RLIMIT_CPU of the worker
    memory_bytes: int = 1024 * MiB  # RLIMIT_AS of the worker
    wall_seconds: float = 20  # enforced here: the worker's process group is killed after this

    def output_cap(self) -> int:
        """Most the worker may write back: the header (text at ≤ 4 UTF-8 bytes a character,
        the removal list) and a clean copy that may be somewhat larger than the upload."""
        return self.max_text * 4 + MiB + 2 * self.max_bytes + MiB


@dataclass(frozen=True)
class Inspection:
    pages: int
    text: str  # whitespace-normalised, at most max_text characters; empty for image-only scans
    clean_pdf: bytes  # the archival copy: active content removed
    removed: list[str]  # what the clean copy lacks, in Chinese, for the dossier
    original_sha256: str


class UploadRejected(ValueError):
    """The upload is refused; ``message`` says why in Chinese, ``code`` says it to programs."""

    field = "file"
    messages = MESSAGES

    def __init__(self, code: str, limits: UploadLimits | None = None) -> None:
        limits = limits or UploadLimits()
        values = dataclasses.asdict(limits) | {
            "max_bytes": _size(limits.max_bytes),
            "max_decompressed": _size(limits.max_decompressed),
            "max_page_content": _size(limits.max_page_content),
            "cpu_seconds": f"{limits.cpu_seconds:g}",
            "wall_seconds": f"{limits.wall_seconds:g}",
        }
        self.code = code if code in self.messages else "damaged"
        self.message = self.messages[self.code].format(**values)
        super().__init__(self.message)


def _size(n: int) -> str:
    if n >= MiB:
        return f"{n / MiB:.4g} MB"
    return f"{n / 1024:.4g} KB" if n >= 1024 else f"{n} 字节"


def inspect_upload(data: bytes, limits: UploadLimits = UploadLimits()) -> Inspection:
    """Check, clean and extract the text of an uploaded PDF in a bounded worker process."""
    # Only byte-level checks happen here; everything that parses PDF syntax runs in the worker.
    if not data:
        raise UploadRejected("empty", limits)
    if len(data) > limits.max_bytes:
        raise UploadRejected("too_large", limits)
    if data.lstrip()[:5] != b"%PDF-":
        raise UploadRejected("not_pdf", limits)
    digest = hashlib.sha256(data).hexdigest()
    try:
        header, clean = _run_worker(data, limits)
    except UploadRejected as exc:
        log.warning("upload %s (%d bytes) refused: %s", digest[:12], len(data), exc.code)
        raise
    log.info("upload %s: %d pages, %d characters of text, removed %s", digest[:12],
             header["pages"], len(header["text"]), header["removed"] or "nothing")  # fmt: skip
    return Inspection(pages=header["pages"], text=header["text"], clean_pdf=clean,
                      removed=list(header["removed"]), original_sha256=digest)  # fmt: skip


def _run_worker(data: bytes, limits: UploadLimits) -> tuple[dict, bytes]:
    returncode, out, err = run_boxed(WORKER, [json.dumps(dataclasses.asdict(limits))], data,
                                     limits, UploadRejected)  # fmt: skip
    return _read_result(returncode, out, err, limits)


def run_boxed(module: str, args: list[str], data: bytes, limits: UploadLimits,
              rejected: type[UploadRejected]) -> tuple[int, bytes, bytes]:  # fmt: skip
    """``python -m module *args`` in its own process group, ``data`` on its stdin: its exit
    status, stdout (at most ``limits.output_cap()``) and the tail of its stderr. Past the wall
    clock, or writing too much, the group is killed and ``rejected("wall" / "output")``."""
    deadline = time.monotonic() + limits.wall_seconds
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # the worker may not write files
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # Its own process group, so a kill reaches anything it started; the package's parent
        # directory as cwd so that ``-m`` finds it even without an installed distribution.
        start_new_session=True, cwd=Path(__file__).resolve().parent.parent, env=env,
    )  # fmt: skip
    try:
        out, err = _exchange(process, data, deadline, limits.output_cap())
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise rejected("wall", limits) from None
    except _Overrun:
        raise rejected("output", limits) from None
    finally:
        if process.returncode is None:
            # Kill the group before reaping the leader, so its id cannot have been reused.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    return process.returncode, out, err


def _exchange(
    process: subprocess.Popen, data: bytes, deadline: float, cap: int
) -> tuple[bytes, bytes]:
    """Write ``data`` to the worker while reading its stdout (at most ``cap`` bytes) and the tail
    of its stderr, until it closes both or the deadline passes."""
    assert process.stdin and process.stdout and process.stderr
    out, err = bytearray(), bytearray()
    pending = memoryview(data)
    with selectors.DefaultSelector() as selector:
        for pipe, event in ((process.stdin, selectors.EVENT_WRITE),
                            (process.stdout, selectors.EVENT_READ),
                            (process.stderr, selectors.EVENT_READ)):  # fmt: skip
            os.set_blocking(pipe.fileno(), False)
            selector.register(pipe, event)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise subprocess.TimeoutExpired(WORKER, 0)
            for key, _ in selector.select(remaining):
                if key.fileobj is process.stdin:
                    try:
                        pending = pending[os.write(key.fd, pending[:CHUNK]) :]
                    except BrokenPipeError:  # the worker stopped reading: its answer says why
                        pending = pending[:0]
                    if not pending:
                        selector.unregister(process.stdin)
                        process.stdin.close()
                    continue
                chunk = os.read(key.fd, CHUNK)
                if not chunk:
                    selector.unregister(key.fileobj)
                elif key.fileobj is process.stdout:
                    out += chunk
                    if len(out) > cap:
                        raise _Overrun
                else:
                    err += chunk
                    del err[:-STDERR_KEPT]
    return bytes(out), bytes(err)


class _Overrun(Exception):
    pass


def read_header(returncode: int, out: bytes, err: bytes, limits: UploadLimits,
                rejected: type[UploadRejected]) -> tuple[dict, bytes]:  # fmt: skip
    """A boxed worker's answer: its JSON header line and the bytes after it; its death, its
    refusal (``{"error": code}``) or a malformed answer as ``rejected``."""
    # Soft RLIMIT_CPU sends SIGXCPU, the hard one (a second later) SIGKILL; this side's own kills
    # never get here.
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise rejected("cpu", limits)
    tail = err.decode("utf-8", "replace")
    if returncode != 0:
        # Python reports a failed allocation as MemoryError; qpdf as std::bad_alloc.
        if "MemoryError" in tail or "bad_alloc" in tail:
            raise rejected("memory", limits)
        log.error("upload worker died with status %d: %s", returncode, tail[-2000:])
        raise rejected("damaged", limits)
    line, _, rest = out.partition(b"\n")
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict):
        log.error("upload worker answered without a header: %s", tail[-2000:])
        raise rejected("damaged", limits)
    if "error" in header:
        raise rejected(str(header["error"]), limits)
    return header, rest


def _read_result(
    returncode: int, out: bytes, err: bytes, limits: UploadLimits
) -> tuple[dict, bytes]:
    header, clean = read_header(returncode, out, err, limits, UploadRejected)
    valid = (
        isinstance(header.get("pages"), int) and 0 < header["pages"] <= limits.max_pages
        and isinstance(header.get("text"), str) and len(header["text"]) <= limits.max_text
        and isinstance(header.get("removed"), list)
        and all(isinstance(item, str) for item in header["removed"])
        and header.get("size") == len(clean) and clean.startswith(b"%PDF-")
    )  # fmt: skip
    if not valid:
        log.error("upload worker answered malformed header %.200r", json.dumps(header)[:200])
        raise UploadRejected("damaged", limits)
    return header, clean
