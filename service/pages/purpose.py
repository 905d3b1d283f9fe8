"""The short form that asks why before anything leaves the archive (查阅登记: every
download, bound volume and export names its purpose)."""

from __future__ import annotations

from flask import render_template, request


def ask_purpose(what: str) -> tuple[str, int]:
    """A page asking for the purpose; it sends the same request again with ``purpose``."""
    kept = {k: v for k, v in request.args.items() if k != "purpose" and v}
    back = request.referrer if (request.referrer or "").startswith(request.host_url) else "/"
    return render_template("purpose.html", what=what, kept=kept, back=back), 200


def wanted_purpose() -> str | None:
    """The purpose given with this request, if any (blank counts as none)."""
    return (request.args.get("purpose") or "").strip() or None
