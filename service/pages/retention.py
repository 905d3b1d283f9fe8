"""Manager and archivist page: retention runs, what awaits destruction, the unpaid volume."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from archive import retention, sweep
from archive.errors import ArchiveError, InvalidData
from archive.models import Destruction, Record
from schemas.labels import outcome_counts
from service.ext import get_archive
from service.pages.session import current_actor, load_user, login_required
from templates.errors import RenderError

bp = Blueprint("retention_pages", __name__, url_prefix="/retention")
bp.before_request(load_user)


@bp.get("")
@login_required("archivist", "manager")
def index():
    pending, unpaid = retention.awaiting(get_archive(), current_actor())
    with get_archive().catalogue.reading() as session:
        done = session.scalars(select(Destruction).order_by(Destruction.id.desc()).limit(20)).all()
        records = {r.id: r.number for r in session.scalars(select(Record))}
    _, recent = sweep.runs(get_archive(), limit=10)
    return render_template("retention.html", runs=recent,
                           pending=pending, unpaid=unpaid, done=done, records=records,
                           rules=retention.rules(get_archive().retention_years))  # fmt: skip


@bp.post("/runs")
@login_required("archivist", "manager")
def run():
    try:
        as_of = dt.date.fromisoformat(request.form.get("as_of") or dt.date.today().isoformat())
        dry_run = request.form.get("dry_run") == "1"
        report = sweep.run(get_archive(), as_of=as_of, dry_run=dry_run, actor=current_actor())
        rehearsal = "（演练，未做更改）" if dry_run else ""
        flash(f"清理完成{rehearsal}：{outcome_counts(report['counts'])}", "ok")
    except (ValueError, ArchiveError, RenderError) as exc:
        flash(f"清理失败：{exc}", "error")
    return redirect(url_for(".index"))


@bp.post("/destructions")
@login_required("manager")
def destroy():
    """Approving a destruction asks first: it shows the contracts it would destroy (parties,
    amounts, files), and destroys them only once the manager confirms that list."""
    numbers = request.form.getlist("contract_no")
    note = request.form.get("note") or None
    try:
        if request.form.get("confirmed") != "1":
            listed = retention.preview(get_archive(), numbers, current_actor())
            total = sum((Decimal(c["total"]) for c in listed), Decimal(0))
            return render_template("retention_confirm.html", contracts=listed, note=note,
                                   total=f"{total:.2f}")  # fmt: skip
        result = retention.destroy(get_archive(), numbers, note, current_actor())
    except InvalidData as exc:
        flash("；".join(m for found in exc.errors.values() for m in found), "error")
        return redirect(url_for(".index"))
    except (ArchiveError, RenderError) as exc:
        flash(str(exc), "error")
        return redirect(url_for(".index"))
    waiting = "" if result["files_deleted"] else retention.FILES_WAIT
    flash(f"已销毁 {len(result['contracts'])} 份合同，销毁记录 {result['certificate']}。{waiting}",
          "ok" if not waiting else "error")  # fmt: skip
    return redirect(url_for(".index"))


@bp.get("/records/<number>.pdf")
@login_required("archivist", "manager")
def record_pdf(number: str):
    _record, data = retention.certificate_file(get_archive(), number)
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{number}.pdf", max_age=0)  # fmt: skip
