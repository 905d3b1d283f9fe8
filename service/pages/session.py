"""The signed-in person of a page request: session, CSRF token, role checks."""

from __future__ import annotations

import secrets
from functools import wraps

from flask import abort, g, redirect, request, session, url_for
from markupsafe import Markup

from archive import users
from archive.actor import Actor
from archive.models import User
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


def start_session(user: User) -> None:
    """Sign ``user`` in: a new session (a new CSRF token) that remembers the user's session
    version, so that a new password or deactivation ends it (see ``load_user``)."""
    session.clear()
    session.permanent = True
    session["user"], session["role"] = user.name, user.role
    session["version"] = user.session_version


def load_user() -> None:
    """Every page request: the signed-in user, and the CSRF check on every form post. The
    session ends when the user was deactivated, or their password or role changed since
    they signed in (the cookie cannot be taken back: the version is what the catalogue
    says)."""
    name = session.get("user")
    user = users.by_name(get_archive().catalogue, name) if name else None
    if (user is not None and user.active and session.get("role") == user.role
            and session.get("version") == user.session_version):  # fmt: skip
        g.actor = users.actor_of(user, request.remote_addr)
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
