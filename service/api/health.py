"""``GET /healthz``: is the catalogue reachable, what the converter workers do. No login."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from service.ext import get_archive

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    arc = get_archive()
    try:
        with arc.catalogue.reading() as session:
            session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # a health check reports, it does not raise
        database = f"error: {exc}"
    body = {
        "status": "ok" if database == "ok" else "degraded",
        "database": database,
        # Each worker's pid, state and counts; reading them never starts LibreOffice.
        "converter": arc.converter.status(),
    }
    return body, 200 if database == "ok" else 503
