"""Serving with waitress (a production WSGI server), warming LibreOffice meanwhile."""

from __future__ import annotations

import logging
import signal
import threading

from flask import Flask
from waitress import serve

from archive.search import warm as warm_search

log = logging.getLogger(__name__)


def run(app: Flask, *, host: str, port: int) -> None:
    archive = app.extensions["hetong.archive"]

    def warm() -> None:
        # The first contract should not wait for LibreOffice to start, nor the first
        # search or filing for jieba's dictionary (~1 s); other commands never need either.
        warm_search()
        try:
            archive.converter.start()
            log.info("LibreOffice listener ready")
        except Exception as exc:  # reported again, as a 503, on the first request
            log.warning("LibreOffice listener not ready: %s", exc)

    def terminate(signum, _frame) -> None:
        # SIGTERM (systemd, kill) ends the process through `finally`, which stops LibreOffice.
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    # Filing commits and returns; this thread makes the change searchable moments later.
    archive.indexer.start()
    threading.Thread(target=warm, name="converter-warmup", daemon=True).start()
    logging.getLogger("waitress").setLevel(logging.INFO)
    print(
        f"hetong 正在 http://{host}:{port}/ 提供服务（API: /api/v1，文档: /api/v1/docs）",
        flush=True,
    )
    try:
        serve(
            app, host=host, port=port, threads=app.config["THREADS"], ident="hetong",
            # waitress reads a whole request before a worker thread sees it, so a slow client
            # holds a connection, never a worker; these bound what it may hold and for how long.
            max_request_body_size=app.config["MAX_CONTENT_LENGTH"],
            max_request_header_size=64 * 1024, channel_timeout=30,
        )  # fmt: skip
    finally:
        archive.close()
