"""The contents page (卷内目录) of a bound volume."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from schemas.money import figures
from templates.sales_contract import chinese_date

TEMPLATE = "volume_contents"


def context(year: int, region: str, rows: list) -> dict[str, Any]:
    return {
        "year": str(year),
        "region": region,
        "entries": [
            {"no": n, "code": c.archival_code or "", "contract_no": c.contract_no,
             "buyer": c.buyer_name, "signed_on": chinese_date(c.signed_on),
             "total": figures(c.total), "documents": str(docs), "page": str(page)}
            for n, (c, docs, page) in enumerate(rows, start=1)
        ],
        "count": str(len(rows)),
    }  # fmt: skip


def properties(year: int, region: str) -> dict[str, str]:
    title = f"销售合同档案 {year}年 {region}卷 卷内目录"
    return {"title": title, "subject": title, "keywords": f"卷内目录, {year}, {region}",
            "author": "hetong", "language": "zh-CN"}  # fmt: skip


class EntryContext(Schema):
    no = fields.Integer()
    code = fields.String()
    contract_no = fields.String()
    buyer = fields.String()
    signed_on = fields.String()
    total = fields.String()
    documents = fields.String()
    page = fields.String()


class VolumeContentsContext(Schema):
    year = fields.String()
    region = fields.String()
    entries = fields.List(fields.Nested(EntryContext))
    count = fields.String()
