"""The contents page (卷内目录) of a bound volume."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from schemas.money import figures
from templates.sales_contract import chinese_date

TEMPLATE = "volume_contents"


def context(year: int, region: str, rows: list,
            certificates: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """``rows``: (contract, its documents bound, its first page) in number order; a contract
    destroyed under retention has page None and, in ``certificates``, the number of the
    destruction certificate that lists it. It keeps its line, marked 已销毁."""
    certificates = certificates or {}
    destroyed = [c for c, _docs, page in rows if page is None]
    return {
        "year": str(year),
        "region": region,
        "entries": [
            {"no": n, "code": c.archival_code or "", "contract_no": c.contract_no,
             "buyer": c.buyer_name, "signed_on": chinese_date(c.signed_on),
             "total": figures(c.total), "documents": "—" if page is None else str(docs),
             "page": "已销毁" if page is None else str(page)}
            for n, (c, docs, page) in enumerate(rows, start=1)
        ],
        "count": str(len(rows) - len(destroyed)),
        "destroyed": _destroyed(destroyed, certificates),
    }  # fmt: skip


def _destroyed(contracts: list, certificates: dict[str, str]) -> str:
    if not contracts:
        return ""
    named = "、".join(
        f"{c.contract_no}（销毁记录 {certificates[c.contract_no]}）"
        if certificates.get(c.contract_no) else c.contract_no for c in contracts
    )  # fmt: skip
    return f"另有 {len(contracts)} 份合同已按保存期限销毁，文件不在本卷：{named}。"


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
    destroyed = fields.String()
