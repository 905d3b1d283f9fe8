"""Pages for people (zh-CN, server-rendered): sign-in, contracts, the library, retention."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Flask, g
from markupsafe import Markup

from archive import users
from schemas.labels import (
    ACTION_NAMES,
    KIND_NAMES,
    PAYMENT_NAMES,
    RETENTION_NAMES,
    ROLE_NAMES,
    STATUS_NAMES,
    local_time,
    outcome_counts,
    person,
    zone_name,
)
from schemas.money import figures
from service.ext import get_archive
from service.pages import (
    admin,
    auth,
    clauses,
    contracts,
    customers,
    library,
    loans,
    receivables,
    requests,
    retention,
    tasks,
    templates,
)
from service.pages.session import csrf_field, current_actor


def register(app: Flask) -> None:
    for module in (auth, contracts, customers, library, receivables, requests, retention, admin,
                   loans, templates, tasks, clauses):  # fmt: skip
        app.register_blueprint(module.bp)

    @app.context_processor
    def _globals():
        return {"csrf_field": csrf_field, "actor": current_actor(), "ROLE_NAMES": ROLE_NAMES,
                "STATUS_NAMES": STATUS_NAMES, "PAYMENT_NAMES": PAYMENT_NAMES,
                "KIND_NAMES": KIND_NAMES, "RETENTION_NAMES": RETENTION_NAMES,
                "ACTION_NAMES": ACTION_NAMES, "ZONE_NAME": zone_name(get_archive().zone),
                "person": _person, "outcome_counts": outcome_counts}  # fmt: skip

    @app.template_filter("localtime")
    def _localtime(value) -> str:
        """A stored (UTC) time in the local time of HETONG_TIMEZONE (the zone is named in
        the column's heading: ``ZONE_NAME``); a view's ISO 8601 string reads the same."""
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return local_time(value, get_archive().zone)

    @app.template_filter("money")
    def _money(value) -> str:
        return figures(Decimal(str(value)))


def _person(login: str | None) -> Markup:
    """A user by display name, the login on hover; the display names are read once a request."""
    if g.get("display_names") is None:
        g.display_names = users.display_names(get_archive().catalogue)
    shown = g.display_names.get(login or "")
    if login and shown and shown != login:
        return Markup('<span title="登录名：{}">{}</span>').format(login, shown)
    return Markup("{}").format(person(login))
