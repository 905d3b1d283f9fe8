"""Pages for the template register (模板库) and template authors: every template and its
versions, uploading a new version (checked; refused with the place of each problem),
previewing it as PDF, two versions side by side, activating one; and the reference of what a
Word template may use (模板变量参考), made from the context schemas."""

from __future__ import annotations

import base64
import io
import subprocess

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for

from archive import previews, template_register, users
from archive.errors import ArchiveError, InvalidData
from archive.filing import MEDIA_TYPES
from schemas.fields import MAX_ID
from schemas.labels import error_lines
from service.downloads import disposition
from service.ext import get_archive
from service.pages.session import current_actor, load_user, login_required
from templates import proof, reference
from templates.errors import ConverterUnavailable, RenderError

bp = Blueprint("templates_pages", __name__, url_prefix="/templates")
ID = f"int(max={MAX_ID})"  # beyond any id the catalogue holds: 404, as in the API
bp.before_request(load_user)


@bp.get("/reference")
@login_required()
def variables():
    return render_template("template_reference.html", kinds=reference.kinds(),
                           tags=reference.TAGS, filters=reference.FILTERS)  # fmt: skip


@bp.get("")
@login_required()
def index():
    catalogue = get_archive().catalogue
    return render_template("templates/index.html",
                           templates=template_register.listing(catalogue),
                           title=template_register.title)  # fmt: skip


@bp.post("")
@login_required("admin")
def create():
    try:
        template = template_register.create(
            get_archive(), request.form.get("business_type", ""), current_actor(),
            name=request.form.get("name", ""),
        )  # fmt: skip
    except ArchiveError as exc:
        _flash(exc)
        return redirect(url_for(".index"))
    flash(f"已建立“{template_register.title(template)}”，第 1 版为标准模板。", "ok")
    return redirect(url_for(".show", template_id=template.id))


def _show(template_id: int, problems: list[str] | None = None, status: int = 200):
    archive = get_archive()
    template = template_register.get(archive.catalogue, template_id)
    return render_template(
        "templates/show.html", t=template, title=template_register.title(template),
        names=users.display_names(archive.catalogue), STATES=template_register.STATE_NAMES,
        ORIGINS=template_register.ORIGIN_NAMES, problems=problems or [],
        contract_kind=template.kind == "sales_contract",
    ), status  # fmt: skip


@bp.get(f"/<{ID}:template_id>")
@login_required()
def show(template_id: int):
    return _show(template_id)


@bp.post(f"/<{ID}:template_id>/versions")
@login_required("admin")
def upload(template_id: int):
    file = request.files.get("file")
    if file is None or not file.filename:
        return _show(template_id, ["请选择要上传的 Word 文件（.docx）。"], 422)
    try:
        kept = template_register.upload(
            get_archive(), template_id, file.read(), current_actor(),
            filename=file.filename, note=request.form.get("note"),
        )  # fmt: skip
    except InvalidData as exc:
        return _show(template_id, [m for ms in exc.errors.values() for m in ms], 422)
    except (ArchiveError, ConverterUnavailable) as exc:
        return _show(template_id, [str(exc)], 409 if isinstance(exc, ArchiveError) else 503)
    flash(f"第 {kept.number} 版已通过检查，保存为草稿：请预览后启用。", "ok")
    for fix in kept.fixes or []:
        flash(f"已修正：{fix}", "ok")
    return redirect(url_for(".show", template_id=template_id) + f"#v{kept.number}")


@bp.post(f"/<{ID}:template_id>/versions/<{ID}:number>/activate")
@login_required("admin")
def activate(template_id: int, number: int):
    try:
        template_register.activate(get_archive().catalogue, template_id, number, current_actor())
    except ArchiveError as exc:
        _flash(exc)
    else:
        flash(f"第 {number} 版已启用：此后的新文件用它。", "ok")
    return redirect(url_for(".show", template_id=template_id))


@bp.post(f"/<{ID}:template_id>/versions/<{ID}:number>/retire")
@login_required("admin")
def retire(template_id: int, number: int):
    try:
        template_register.retire(get_archive().catalogue, template_id, number, current_actor())
    except ArchiveError as exc:
        _flash(exc)
    else:
        flash(f"第 {number} 版已停用。", "ok")
    return redirect(url_for(".show", template_id=template_id))


@bp.get(f"/<{ID}:template_id>/versions/<{ID}:number>/preview.pdf")
@login_required()
def preview(template_id: int, number: int):
    try:
        pdf = previews.preview(get_archive(), template_id, number, current_actor(),
                               contract_no=request.args.get("contract") or None,
                               purpose=request.args.get("purpose"))  # fmt: skip
    except (ArchiveError, RenderError) as exc:
        _flash(exc)
        return redirect(url_for(".show", template_id=template_id))
    response = send_file(io.BytesIO(pdf), mimetype="application/pdf", max_age=0)
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.get(f"/<{ID}:template_id>/versions/<{ID}:number>/file")
@login_required()
def download(template_id: int, number: int):
    catalogue = get_archive().catalogue
    template = template_register.get(catalogue, template_id)
    version = template_register.version(template, number)
    name = f"{template_register.title(template)}-第{number}版.docx"
    data = template_register.file_of(catalogue, version.id).data
    response = send_file(io.BytesIO(data), mimetype=MEDIA_TYPES["docx"], as_attachment=True,
                         download_name=name)  # fmt: skip
    response.headers["Content-Disposition"] = disposition(name)
    return response


@bp.get(f"/<{ID}:template_id>/compare")
@login_required()
def compare(template_id: int):
    """Two versions' previews (sample data) page by page, side by side."""
    archive = get_archive()
    template = template_register.get(archive.catalogue, template_id)
    numbers = [v.number for v in template.versions]
    try:
        left = int(request.args.get("a") or numbers[max(0, len(numbers) - 2)])
        right = int(request.args.get("b") or numbers[-1])
        sides = []
        for number in (left, right):
            pdf = previews.preview(archive, template_id, number, current_actor())
            images = [base64.b64encode(p).decode("ascii") for p in proof.page_images(pdf)]
            sides.append((template_register.version(template, number), images))
    except ValueError:
        flash("请选择要对照的两个版本。", "error")
        return redirect(url_for(".show", template_id=template_id))
    except (subprocess.SubprocessError, OSError):
        flash("未能把预览转为页面图像（pdftoppm），请改用“预览 PDF”。", "error")
        return redirect(url_for(".show", template_id=template_id))
    except (ArchiveError, RenderError) as exc:
        _flash(exc)
        return redirect(url_for(".show", template_id=template_id))
    rows = max(len(images) for _, images in sides)
    return render_template("templates/compare.html", t=template,
                           title=template_register.title(template), sides=sides, rows=rows,
                           STATES=template_register.STATE_NAMES)  # fmt: skip


def _flash(exc: Exception) -> None:
    if isinstance(exc, InvalidData):
        for line in error_lines(exc.errors):
            flash(line, "error")
    else:
        flash(str(exc), "error")
