"""The application factory."""

from __future__ import annotations

import logging
import os
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_smorest import Api

from archive.core import Archive
from service import config as settings
from service.errors import register_error_handlers
from templates.convert import Converter
from templates.render import Renderer

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app for one data root; migrations run and leftovers heal here."""
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
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.extensions["hetong.archive"] = _archive(values).open()
    app.config.update(
        SECRET_KEY=values["SECRET_KEY"] or _secret_key(Path(values["DATA_DIR"])),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=8 * 3600,
    )

    api = Api(app)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "hetong users add 打印的令牌"}
    )
    from service.api import (
        access,
        contracts,
        docs,
        dossier,
        health,
        receivables,
        retention,
        search,
        volumes,
    )

    app.register_blueprint(docs.assets)
    app.register_blueprint(health.blp)
    api.register_blueprint(contracts.blp, url_prefix=f"{API_PREFIX}/contracts")
    api.register_blueprint(dossier.blp, url_prefix=f"{API_PREFIX}/contracts")
    api.register_blueprint(receivables.blp, url_prefix=f"{API_PREFIX}/receivables")
    api.register_blueprint(search.blp, url_prefix=f"{API_PREFIX}/search")
    api.register_blueprint(access.blp, url_prefix=f"{API_PREFIX}/access-log")
    api.register_blueprint(volumes.blp, url_prefix=f"{API_PREFIX}/volumes")
    api.register_blueprint(retention.blp, url_prefix=f"{API_PREFIX}/retention")
    api.register_blueprint(retention.holds, url_prefix=f"{API_PREFIX}/contracts")
    from service.pages import register as register_pages

    register_pages(app)
    register_error_handlers(app)
    return app


def _secret_key(data_dir: Path) -> str:
    """A random key kept (0600) in the data root, so sessions survive restarts."""
    path = data_dir / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def _archive(values: dict[str, Any]) -> Archive:
    data_dir = Path(values["DATA_DIR"])
    if values["CONVERTER_URL"]:
        converter = Converter(url=values["CONVERTER_URL"], timeout=values["CONVERTER_TIMEOUT"])
    else:
        converter = Converter(
            profile_dir=data_dir / "run" / "libreoffice-profile",
            log_file=data_dir / "run" / "unoserver.log",
            python=values["CONVERTER_PYTHON"],
            timeout=values["CONVERTER_TIMEOUT"],
            start_timeout=values["CONVERTER_START_TIMEOUT"],
        )
    return Archive(
        data_dir=data_dir,
        database_url=values["DATABASE_URL"],
        renderer=Renderer(values["TEMPLATE_DIR"] or None),
        converter=converter,
        number_pattern=values["CONTRACT_NUMBER_PATTERN"],
        delivery_number_pattern=values["DELIVERY_NUMBER_PATTERN"],
        major_share=Decimal(str(values["MAJOR_CHANGE_SHARE"])),
        regions=values["REGIONS"],
        archival_pattern=values["ARCHIVAL_CODE_PATTERN"],
        retention_years=values["RETENTION_YEARS"],
    )


def archive() -> Archive:
    """The archive of the current app."""
    return current_app.extensions["hetong.archive"]
