"""The application factory."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request

from archive import startup
from archive.core import Archive
from service import config as settings
from service import ext
from service.errors import HetongApi, error_response, register_error_handlers

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
DESCRIPTION = ("销售合同的生成、归档与检索。金额一律为字符串；"
               "错误一律为 JSON：code、status、message、errors。")  # fmt: skip


def create_app(config: dict[str, Any] | None = None, *, archive: Archive | None = None) -> Flask:
    """Build the app for one data root; migrations run and leftovers heal here.

    ``archive`` lets a caller (a test, a second front end) hand in an archive it built.
    """
    values = settings.load(config)
    app = Flask(__name__)
    app.config.update(values)
    app.config.update(
        API_TITLE="hetong 合同管理 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=f"{API_PREFIX}/docs/assets/",
        API_SPEC_OPTIONS={"info": {"description": DESCRIPTION}},
    )
    app.json.ensure_ascii = False
    ext.init_app(app, startup.start(archive or ext.build_archive(values)))
    app.config.update(
        SECRET_KEY=values["SECRET_KEY"] or _secret_key(Path(values["DATA_DIR"])),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=values["COOKIE_SECURE"],
        PERMANENT_SESSION_LIFETIME=8 * 3600,
    )
    _register_api(app)
    from service.pages import register as register_pages

    register_pages(app)
    register_error_handlers(app)
    app.before_request(_refuse_oversized_bodies)
    app.after_request(_safe_headers)
    return app


def _refuse_oversized_bodies():
    """Before anything reads the body, authentication included: a declared size above the
    limit is refused at once (waitress refuses larger bodies still unsent)."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        return error_response(413, f"请求体过大：最多 {limit // (1024 * 1024)} MB。")
    return None


# The pages load their own scripts and styles only; nothing may frame them.
CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
])  # fmt: skip
# The API's interactive documentation (Swagger UI) starts itself with an inline script.
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


def _safe_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        docs = request.path.startswith(f"{API_PREFIX}/docs")
        headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else CSP)
    if not request.path.startswith(("/static/", f"{API_PREFIX}/docs/assets/")):
        # Contract data, tokens, retrieval records: never kept by a browser or a proxy.
        headers["Cache-Control"] = "no-store"
    return response


def _register_api(app: Flask) -> None:
    # Imported here, at registration, so that importing the factory stays cheap.
    from service.api import (
        access,
        access_requests,
        clauses,
        contracts,
        customers,
        docs,
        dossier,
        health,
        loans,
        receivables,
        retention,
        reviews,
        search,
        templates,
        volumes,
    )

    api = HetongApi(app)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "hetong users add 打印的令牌"}
    )
    app.register_blueprint(docs.assets)
    app.register_blueprint(health.blp)
    for blp, prefix in (
        (contracts.blp, "contracts"), (dossier.blp, "contracts"),
        (receivables.blp, "receivables"), (search.blp, "search"), (access.blp, "access-log"),
        (volumes.blp, "volumes"), (retention.blp, "retention"), (retention.holds, "contracts"),
        (loans.blp, "loans"), (access_requests.blp, "access-requests"),
        (templates.blp, "templates"), (customers.blp, "customers"),
        (reviews.blp, "contracts"), (reviews.todo, "tasks"), (clauses.blp, "clauses"),
    ):  # fmt: skip
        api.register_blueprint(blp, url_prefix=f"{API_PREFIX}/{prefix}")


def _secret_key(data_dir: Path) -> str:
    """A random key kept (0600) in the data root, so sessions survive restarts."""
    path = data_dir / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()
