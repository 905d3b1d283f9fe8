"""待办: what waits for the signed-in person (archive.tasks)."""

from __future__ import annotations

from flask import Blueprint, render_template

from archive import tasks
from service.ext import get_archive
from service.pages.session import current_actor, load_user, login_required

bp = Blueprint("tasks_pages", __name__, url_prefix="/tasks")
bp.before_request(load_user)


@bp.get("")
@login_required()
def index():
    found = tasks.tasks(get_archive(), current_actor())
    return render_template("tasks.html", rows=found, KINDS=tasks.KIND_NAMES,
                           days=get_archive().signed_copy_days)  # fmt: skip
