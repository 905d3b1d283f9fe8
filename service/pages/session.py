"""The signed-in person of a page request: session, CSRF token, role checks."""

from __future__ import annotations

import secrets
from functools import wraps

from flask import abort, g, redirect, request, session, url_for
from markupsafe import Markup

from archive import users
from archive.audit import Actor
from schemas.labels import role_names
from service.ext import get_archive


def current_actor() -> Actor | None:
    return g.get("actor")


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="csrf" value="{}">').format(csrf_token())


def load_user() -> None:
    """Every page request: the signed-in user, and the CSRF check on every form post."""
    name = session.get("user")
    user = users.by_name(get_archive().catalogue, name) if name else None
    if user is not None and session.get("role") == user.role:
        g.actor = Actor(user.name, user.role, client=request.remote_addr,
                        display_name=user.display_name)  # fmt: skip
    elif name:
        session.clear()
    if request.method == "POST":
        sent = request.form.get("csrf", "")
        if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
            abort(400, description="表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。")


def login_required(*roles: str):
    """Signed in (else to the sign-in page) and, if roles are given, one of them (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            actor = current_actor()
            if actor is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if roles and not actor.can(*roles):
                abort(403, description=f"此页面需要以下角色之一：{role_names(roles)}")
            return view(*args, **kwargs)

        return wrapper

    return decorator
