"""Sign in and out. Repeated failures (per account and per address) make the next attempt
wait; the page is refused at once, never held."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for

from archive import users
from service.ext import get_archive
from service.pages.session import current_actor, load_user, start_session

bp = Blueprint("auth", __name__)
bp.before_request(load_user)

HOME = {"clerk": "contracts_pages.index", "archivist": "library.search",
        "manager": "contracts_pages.index", "admin": "contracts_pages.index"}  # fmt: skip


@bp.get("/")
def home():
    actor = current_actor()
    if actor is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for(HOME.get(actor.role, "contracts_pages.index")))


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site, else home. Never another site:
    no scheme or host, no ``//`` or ``/\\`` (browsers read a backslash as a slash), and no
    whitespace or control characters (browsers drop some, turning ``/\\t/x`` into ``//x``)."""
    home = url_for("auth.home")
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return home
    if "\\" in target or any(c.isspace() or not c.isprintable() for c in target):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return home
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, status, headers = None, 200, {}
    if request.method == "POST":
        name = request.form.get("username", "").strip()
        attempt = users.sign_in(get_archive().catalogue, name,
                                request.form.get("password", ""), request.remote_addr)  # fmt: skip
        if attempt.wait:
            error, status = f"登录失败次数过多，请等待 {attempt.wait} 秒后再试。", 429
            headers["Retry-After"] = str(attempt.wait)
        elif attempt.inactive:
            error, status = "该账户已停用，请联系管理员。", 403
        elif attempt.user is None:
            error, status = "用户名或密码不正确。", 401
        else:
            start_session(attempt.user)
            return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", error=error), status, headers


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
