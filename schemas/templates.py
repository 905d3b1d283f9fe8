"""The template register (模板库) as the API reads and answers it: a template, its versions,
a new business type, an upload, a preview's query string."""

from __future__ import annotations

from marshmallow import Schema, fields

from schemas.contract import SHORT, StrictSchema
from schemas.fields import Text, Upload
from schemas.queries import QueryArgs, purpose_field

STATES = ("draft", "active", "retired")


class VersionViewSchema(Schema):
    number = fields.Integer(metadata={"description": "版本号（第 1 版为随系统提供的标准模板）"})
    state = fields.String(metadata={"description": "draft 草稿 / active 使用中 / retired 已停用",
                                    "enum": list(STATES)})  # fmt: skip
    state_name = fields.String(metadata={"description": "状态（中文）"})
    origin = fields.String(metadata={"description": "bundled 随系统提供 / upload 上传"})
    sha256 = fields.String(metadata={"description": "Word 文件的 SHA-256"})
    size = fields.Integer(metadata={"description": "字节数"})
    filename = fields.String()
    note = fields.String(allow_none=True, metadata={"description": "说明"})
    fixes = fields.List(fields.String(), metadata={"description": "上传检查时自动修正的内容"})
    uploaded_by = fields.String(metadata={"description": "上传人（登录名）"})
    uploaded_by_name = fields.String(metadata={"description": "上传人（显示名称）"})
    uploaded_at = fields.DateTime(metadata={"description": "上传时间（UTC）"})
    activated_by = fields.String(allow_none=True)
    activated_at = fields.DateTime(allow_none=True, metadata={"description": "启用时间（UTC）"})
    links = fields.Dict(metadata={"description": "self、file（下载 .docx）、preview（PDF 预览）、"
                                                 "activate（启用）"})  # fmt: skip


class TemplateViewSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "模板种类：sales_contract、amendment …"})
    kind_name = fields.String(metadata={"description": "模板种类（中文）"})
    business_type = fields.String(metadata={"description": "销售业务类型（仅销售合同模板）"})
    title = fields.String(metadata={"description": "销售合同·设备买卖 等"})
    name = fields.String()
    active_version = fields.Integer(allow_none=True, metadata={"description": "使用中的版本号"})
    versions = fields.List(fields.Nested(VersionViewSchema))
    links = fields.Dict()


class TemplateCreateSchema(StrictSchema):
    """A sales-contract template for a new business type; it starts as the standard one."""

    business_type = Text(required=True, max_length=40,
                         metadata={"description": "销售业务类型，如 工程安装"})  # fmt: skip
    name = Text(max_length=100, metadata={"description": "模板名称（省略时按业务类型命名）"})


class VersionUploadSchema(StrictSchema):
    """A new version (multipart/form-data): the Word file and a note."""

    file = Upload(required=True, metadata={"description": "Word 模板（.docx）"})
    note = Text(max_length=500, multiline=True, metadata={"description": "说明（改了什么）"})


class PreviewArgs(QueryArgs):
    """Render with the sample data, or with an existing contract's (sales-contract
    templates; recorded in the 查阅登记 with its purpose)."""

    contract = Text(max_length=SHORT, metadata={"description": "以该合同的数据预览（合同编号）"})
    purpose = purpose_field(required=False)
