"""Sign in and out."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from archive import users
from service.ext import get_archive
from service.pages.session import current_actor, load_user

bp = Blueprint("auth", __name__)
bp.before_request(load_user)

HOME = {"clerk": "contracts_pages.index", "archivist": "library.search",
        "manager": "contracts_pages.index", "admin": "contracts_pages.index"}  # fmt: skip


@bp.get("/")
def home():
    actor = current_actor()
    if actor is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for(HOME[actor.role]))


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        name = request.form.get("username", "").strip()
        user = users.by_password(get_archive().catalogue, name, request.form.get("password", ""))
        if user is None:
            error = "用户名或密码不正确。"
        else:
            session.clear()
            session.permanent = True
            session["user"], session["role"] = user.name, user.role
            target = request.args.get("next") or ""
            # Only local paths: never an open redirect.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("auth.home")
            return redirect(target)
    return render_template("login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
