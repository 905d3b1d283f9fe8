"""``/api/v1/templates``: the template register — templates by kind and business type, their
versions, uploading and checking a new version, previewing it, activating it."""

from __future__ import annotations

import io
from typing import Any

from flask import send_file, url_for

from archive import previews, template_register, users
from archive.filing import MEDIA_TYPES
from archive.models import Template, TemplateVersion
from schemas.fields import MAX_ID
from schemas.templates import (
    PreviewArgs,
    TemplateCreateSchema,
    TemplateViewSchema,
    VersionUploadSchema,
    VersionViewSchema,
)
from service.api.common import SECURITY, Blueprint
from service.auth import actor, authenticate
from service.downloads import disposition
from service.ext import get_archive
from templates.reference import TITLES

blp = Blueprint("templates", __name__, description="模板库（合同模板的版本、检查、预览与启用）")
blp.before_request(authenticate)

ID = f"int(max={MAX_ID})"
LOCATION = {"Location": {"description": "新建资源的地址", "schema": {"type": "string"}}}
PDF = {"description": "预览（PDF）", "content": {"application/pdf": {
    "schema": {"type": "string", "format": "binary"}}}}  # fmt: skip
DOCX = {"description": "Word 模板文件", "content": {MEDIA_TYPES["docx"]: {
    "schema": {"type": "string", "format": "binary"}}}}  # fmt: skip


def version_view(template: Template, version: TemplateVersion,
                 names: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    at = {"template_id": template.id, "number": version.number}
    return {
        "number": version.number, "state": version.state,
        "state_name": template_register.STATE_NAMES[version.state], "origin": version.origin,
        "sha256": version.sha256, "size": version.size, "filename": version.filename,
        "note": version.note, "fixes": version.fixes or [],
        "uploaded_by": version.uploaded_by,
        "uploaded_by_name": names.get(version.uploaded_by, version.uploaded_by),
        "uploaded_at": version.uploaded_at, "activated_by": version.activated_by,
        "activated_at": version.activated_at,
        "links": {"self": url_for("templates.show_version", **at),
                  "file": url_for("templates.file", **at),
                  "preview": url_for("templates.preview", **at),
                  "activate": url_for("templates.activate", **at)},
    }  # fmt: skip


def template_view(template: Template, names: dict[str, str]) -> dict[str, Any]:
    current = next((v.number for v in template.versions if v.state == "active"), None)
    return {
        "id": template.id, "kind": template.kind,
        "kind_name": TITLES.get(template.kind, template.kind),
        "business_type": template.business_type, "title": template_register.title(template),
        "name": template.name, "active_version": current,
        "versions": [version_view(template, v, names) for v in template.versions],
        "links": {"self": url_for("templates.show", template_id=template.id),
                  "versions": url_for("templates.upload", template_id=template.id)},
    }  # fmt: skip


def _names() -> dict[str, str]:
    return users.display_names(get_archive().catalogue)


@blp.get("")
@blp.doc(summary="模板库：全部模板及其版本", security=SECURITY)
@blp.response(200, TemplateViewSchema(many=True))
def index():
    names = _names()
    return [template_view(t, names) for t in template_register.listing(get_archive().catalogue)]


@blp.post("")
@blp.doc(summary="为新的销售业务类型建立合同模板（管理员；第 1 版为标准模板）", security=SECURITY)
@blp.arguments(TemplateCreateSchema)
@blp.response(201, TemplateViewSchema, description="已建立", headers=LOCATION)
@blp.errors(403, 409, 422)
def create(data: dict[str, Any]):
    template = template_register.create(get_archive(), data["business_type"], actor(),
                                        name=data.get("name") or "")  # fmt: skip
    body = template_view(template, _names())
    return body, {"Location": body["links"]["self"]}


@blp.get(f"/<{ID}:template_id>")
@blp.doc(summary="查看模板及其全部版本", security=SECURITY)
@blp.response(200, TemplateViewSchema)
@blp.errors(404)
def show(template_id: int):
    return template_view(template_register.get(get_archive().catalogue, template_id), _names())


@blp.post(f"/<{ID}:template_id>/versions")
@blp.doc(summary="上传新版本（管理员；multipart 字段 file 与 note）", security=SECURITY,
         description="上传的 Word 文件先在受限的子进程中检查：能否打开、有无宏或外部内容、"
         "标签是否完整、用到的变量是否存在（指出所在段落）、合同必备部分、字体，并以示例数据"
         "试渲染、试转换为 PDF/A。未通过时 422，file 字段逐条说明问题与位置，什么也不保存。"
         "通过后保存为草稿，启用后才用于新文件。")  # fmt: skip
@blp.arguments(VersionUploadSchema, location="form_and_files")
@blp.response(201, VersionViewSchema, description="已保存为草稿", headers=LOCATION)
@blp.errors(403, 404, 409, 413, 422, 503)
def upload(data: dict[str, Any], template_id: int):
    file = data["file"]
    version = template_register.upload(
        get_archive(), template_id, file.read(), actor(),
        filename=file.filename or "", note=data.get("note"),
    )  # fmt: skip
    template = template_register.get(get_archive().catalogue, template_id)
    body = version_view(template, version, _names())
    return body, {"Location": body["links"]["self"]}


@blp.get(f"/<{ID}:template_id>/versions/<{ID}:number>")
@blp.doc(summary="查看一个版本", security=SECURITY)
@blp.response(200, VersionViewSchema)
@blp.errors(404)
def show_version(template_id: int, number: int):
    template = template_register.get(get_archive().catalogue, template_id)
    return version_view(template, template_register.version(template, number), _names())


@blp.post(f"/<{ID}:template_id>/versions/<{ID}:number>/activate")
@blp.doc(summary="启用此版本（管理员）：此后的新文件用它；原使用中的版本停用", security=SECURITY)
@blp.response(200, VersionViewSchema, description="已启用")
@blp.errors(403, 404)
def activate(template_id: int, number: int):
    version = template_register.activate(get_archive().catalogue, template_id, number, actor())
    template = template_register.get(get_archive().catalogue, template_id)
    return version_view(template, version, _names())


@blp.post(f"/<{ID}:template_id>/versions/<{ID}:number>/retire")
@blp.doc(summary="停用草稿（管理员；使用中的版本须先启用另一版本）", security=SECURITY)
@blp.response(200, VersionViewSchema, description="已停用")
@blp.errors(403, 404, 409)
def retire(template_id: int, number: int):
    version = template_register.retire(get_archive().catalogue, template_id, number, actor())
    template = template_register.get(get_archive().catalogue, template_id)
    return version_view(template, version, _names())


@blp.get(f"/<{ID}:template_id>/versions/<{ID}:number>/file")
@blp.doc(summary="下载此版本的 Word 文件", security=SECURITY, responses={200: DOCX})
@blp.errors(404)
def file(template_id: int, number: int):
    template = template_register.get(get_archive().catalogue, template_id)
    version = template_register.version(template, number)
    data = template_register.file_of(get_archive().catalogue, version.id).data
    name = f"{template_register.title(template)}-第{number}版.docx"
    response = send_file(io.BytesIO(data), mimetype=MEDIA_TYPES["docx"], as_attachment=True,
                         download_name=name, etag=version.sha256, max_age=0)  # fmt: skip
    response.headers["Content-Disposition"] = disposition(name)
    return response


@blp.get(f"/<{ID}:template_id>/versions/<{ID}:number>/preview")
@blp.doc(summary="预览此版本（PDF）：以示例数据，或以已有合同的数据（须说明用途）",
         security=SECURITY, responses={200: PDF})  # fmt: skip
@blp.arguments(PreviewArgs, location="query")
@blp.errors(404, 410, 422, 503)
def preview(args: dict[str, Any], template_id: int, number: int):
    pdf = previews.preview(
        get_archive(), template_id, number, actor(),
        contract_no=args.get("contract"), purpose=args.get("purpose"),
    )  # fmt: skip
    response = send_file(io.BytesIO(pdf), mimetype="application/pdf", max_age=0,
                         download_name=f"template-{template_id}-{number}.pdf")  # fmt: skip
    response.headers["Content-Disposition"] = "inline"
    return response
