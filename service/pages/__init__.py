"""Pages for people (zh-CN, server-rendered): sign-in, contracts, the library, retention."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask

from schemas.labels import (
    ACTION_NAMES,
    KIND_NAMES,
    PAYMENT_NAMES,
    RETENTION_NAMES,
    ROLE_NAMES,
    STATUS_NAMES,
)
from schemas.money import figures
from service.pages import auth, contracts, library, retention
from service.pages.session import csrf_field, current_actor


def register(app: Flask) -> None:
    for module in (auth, contracts, library, retention):
        app.register_blueprint(module.bp)

    @app.context_processor
    def _globals():
        return {"csrf_field": csrf_field, "actor": current_actor(), "ROLE_NAMES": ROLE_NAMES,
                "STATUS_NAMES": STATUS_NAMES, "PAYMENT_NAMES": PAYMENT_NAMES,
                "KIND_NAMES": KIND_NAMES, "RETENTION_NAMES": RETENTION_NAMES,
                "ACTION_NAMES": ACTION_NAMES}  # fmt: skip

    @app.template_filter("money")
    def _money(value) -> str:
        return figures(Decimal(str(value)))
