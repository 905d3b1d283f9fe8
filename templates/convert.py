"""PDF conversion through a pool of warm LibreOffice workers.

``Converter`` keeps N workers (``templates.workers``). By default they are LibreOffice
processes of its own, one per core, each with its own profile under the data root's ``run/``:
started on demand (or all at ``start()``), replaced after ``recycle`` conversions (in the
background, so no caller waits for it), when they died, and when a conversion hangs (killed
after ``timeout``). Or they are unoserver conversion hosts given by URL, used in turn, a failing
one set aside and tried again later.

A caller takes a free worker or waits for one, but only while fewer than ``queue`` callers
already wait, and for at most ``queue_wait`` seconds; beyond that it gets ``ConverterBusy``
at once (the web layer answers 503 with Retry-After) instead of piling up behind LibreOffice.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from templates.errors import ConverterBusy, ConverterUnavailable
from templates.workers import PDFA_OPTIONS, LocalWorker, RemoteWorker, WorkerDied

log = logging.getLogger(__name__)

Worker = LocalWorker | RemoteWorker


class Converter:
    def __init__(
        self,
        *,
        profile_dir: Path | None = None,
        url: str = "",
        urls: list[str] | tuple[str, ...] = (),
        workers: int = 0,
        recycle: int = 200,
        queue: int = 0,
        queue_wait: float = 30,
        python: str = "",
        timeout: float = 60,
        start_timeout: float = 90,
        log_file: Path | None = None,
    ) -> None:
        """``workers`` 0: one per core; ``queue`` 0: twice the workers; ``recycle`` 0: never.

        With ``url`` or ``urls`` the workers are those unoserver hosts; otherwise LibreOffice
        processes of this converter, with their profiles under ``profile_dir``.
        """
        hosts = [u.strip() for u in (url, *urls) if u and u.strip()]
        self._workers: list[Worker]
        if hosts:
            self._workers = [RemoteWorker(n, u, timeout=timeout) for n, u in enumerate(hosts, 1)]
        else:
            if profile_dir is None:
                raise ValueError("a converter with workers of its own needs a profile folder")
            self._workers = [
                LocalWorker(n, profiles=Path(profile_dir), python=python, timeout=timeout,
                            start_timeout=start_timeout, log_file=log_file)
                for n in range(1, (workers or os.cpu_count() or 1) + 1)
            ]  # fmt: skip
        self.managed = not hosts
        self.recycle = recycle if self.managed else 0
        self.queue = queue or 2 * len(self._workers)
        self.queue_wait = queue_wait
        self._url = hosts[0] if hosts else ""
        self._free = threading.Condition()  # guards busy flags, _waiting, _turn, _closed
        self._waiting = 0
        self._turn = 0  # where the round over the hosts goes on
        self._closed = False
        atexit.register(self.close)

    # -- state ---------------------------------------------------------------------------------

    @property
    def workers(self) -> list[Worker]:
        return list(self._workers)

    @property
    def running(self) -> bool:
        return any(w.running for w in self._workers)

    @property
    def pid(self) -> int | None:
        """The process of the first running worker of our own (None for hosts)."""
        return next((w.pid for w in self._workers if w.running and w.pid), None)

    def status(self) -> dict[str, Any]:
        """Each worker's state, for /healthz: cheap, and never starts anything."""
        return {
            "mode": "local" if self.managed else "hosts",
            "workers": [w.status() for w in self._workers],
            "waiting": self._waiting,
            "queue": self.queue,
            "libreoffice": next((w.version for w in self._workers if w.version), None),
        }

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start every worker (in parallel); raise if LibreOffice cannot be had.

        Hosts: raise only when none answers.
        """
        errors: list[Exception] = []

        def start(worker: Worker) -> None:
            try:
                worker.start()
            except ConverterUnavailable as exc:
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(w,), name=f"converter-start-{w.number}")
                   for w in self._workers]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors and (self.managed or len(errors) == len(self._workers)):
            raise errors[0]

    def close(self) -> None:
        """Stop every LibreOffice this converter started and give up the profiles."""
        with self._free:
            self._closed = True
            self._free.notify_all()
        for worker in self._workers:  # all at once: each ends its LibreOffice meanwhile
            worker.hang_up()
        for worker in self._workers:
            worker.close()

    def libreoffice_version(self) -> str:
        known = next((w.version for w in self._workers if w.version), "")
        if not known:
            self._workers[0].start()
            known = self._workers[0].version
        return known or "unknown"

    # -- use -----------------------------------------------------------------------------------

    def to_pdf(self, docx: bytes) -> bytes:
        """Convert a .docx to PDF/A-2b.

        Raises ConverterBusy when too many callers wait, ConverterUnavailable on crash or hang.
        A worker found dead (killed, crashed since its last use) is replaced and the document
        tried once more.
        """
        for attempt in (1, 2):
            worker = self._acquire()
            try:
                return worker.convert(docx)
            except WorkerDied as exc:
                log.warning("converter worker %d: %s (attempt %d)", worker.number, exc, attempt)
                if attempt == 2 or self._closed:
                    raise
            finally:
                self._done(worker)
        raise AssertionError("unreachable")

    def _acquire(self) -> Worker:
        deadline = time.monotonic() + self.queue_wait
        with self._free:
            worker = self._pick()
            if worker is None:
                if self._waiting >= self.queue:
                    raise ConverterBusy(f"{self._waiting} 份文档正在排队等待 PDF 转换，请稍后重试")
                self._waiting += 1
                try:
                    while (worker := self._pick()) is None:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise ConverterBusy("等待空闲的 PDF 转换进程超时，请稍后重试")
                        self._free.wait(left)
                finally:
                    self._waiting -= 1
            worker.busy = True
            return worker

    def _pick(self) -> Worker | None:
        """A free worker: a running one before one that must start; hosts in turn."""
        if self._closed:
            raise ConverterUnavailable("转换服务已关闭")
        free = [w for w in self._workers if not w.busy]
        if not free:
            return None
        if self.managed:
            return next((w for w in free if w.running), free[0])
        hosts = [w for w in free if not w.down]
        if not hosts:
            if any(not w.down for w in self._workers):
                return None  # the hosts that answer are busy: wait for one of them
            hosts = [min(free, key=lambda w: w.down_until)]  # all down: try again, oldest first
        count = len(self._workers)
        chosen = min(hosts, key=lambda w: (w.number - 1 - self._turn) % count)
        self._turn = chosen.number % count
        return chosen

    def _done(self, worker: Worker) -> None:
        if self.recycle and worker.conversions >= self.recycle and not self._closed:
            # Still busy to the pool until the fresh one is up; nobody waits for the restart.
            threading.Thread(target=self._recycle, args=(worker,), daemon=True,
                             name=f"converter-recycle-{worker.number}").start()  # fmt: skip
        else:
            self._release(worker)

    def _recycle(self, worker: Worker) -> None:
        log.info("recycling converter worker %d after %d conversions",
                 worker.number, worker.conversions)  # fmt: skip
        try:
            worker.stop()
            worker.start()
        except ConverterUnavailable as exc:  # the next caller starts it, or reports why not
            log.warning("converter worker %d did not restart: %s", worker.number, exc)
        finally:
            self._release(worker)

    def _release(self, worker: Worker) -> None:
        with self._free:
            worker.busy = False
            self._free.notify()


__all__ = ["PDFA_OPTIONS", "Converter", "ConverterBusy", "ConverterUnavailable"]
