"""The destruction list (销毁清单) of a retention run and the destruction certificate
(销毁记录) of a manager's approval: one template, two titles.

A run files one list per volume (signing year × region) and a large approval one certificate,
each split into parts of a few hundred rows (a table of thousands of rows is more than one
conversion should take on). A part says which part of how many it is, and its rows go on
numbering where the previous part stopped. Files are named by a short prefix of their SHA-256
(the full hashes are kept in the tombstones), so the column never fills with wrapped hex.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, fields

from schemas.labels import DEFAULT_ZONE, local_date, local_time
from schemas.labels import zone as zone_of
from schemas.money import figures
from templates.sales_contract import chinese_date

TEMPLATE = "destruction"
KINDS = {"sales_contract": "合同", "amendment": "补充协议", "delivery_notice": "发货通知单",
         "signed_scan": "扫描件"}  # fmt: skip
HASH_PREFIX = 12  # hex digits of a file's SHA-256 shown in a row (the tombstone keeps all)


def _rows(items: list[dict[str, Any]], start: int = 1) -> list[dict[str, str]]:
    rows = []
    for n, item in enumerate(items, start=start):
        docs = {}
        for d in item["documents"]:
            if d["format"] == "pdf":
                docs[d["number"]] = f"{KINDS.get(d['kind'], d['kind'])} {d['number']} " \
                                    f"{d['sha256'][:HASH_PREFIX]}"  # fmt: skip
        rows.append({
            "no": str(n),
            "numbers": f"{item['contract_no']}\n{item.get('archival_code') or ''}",
            "parties": f"{item['seller']}\n{item['buyer']}",  # a line each
            "when": f"{item['signed_on']}\n{figures(Decimal(item['total']))}",
            "documents": "\n".join(docs.values()),  # a line each
        })  # fmt: skip
    return rows


def _part_of(part: int, parts: int) -> str:
    return f"本件共 {parts} 部分，此为第 {part} 部分。" if parts > 1 else ""


def chain_line(audit_head: str) -> str:
    """The audit chain's head when the document was made ("id:sha256"), printed in full: a
    later rewrite of the history before it is shown by ``hetong audit verify --against``."""
    if not audit_head:
        return ""
    number, _, digest = audit_head.partition(":")
    if number == "0":
        return "审计链头：尚无审计记录"
    return f"审计链头：第 {number} 条　SHA-256 {digest}"


def list_context(items: list[dict[str, Any]], as_of: dt.date, *, volume: str | None = None,
                 part: int = 1, parts: int = 1, start: int = 1,
                 audit_head: str = "") -> dict[str, Any]:  # fmt: skip
    """The list a retention run files: ``items`` are the tombstones of the contracts of one
    ``volume`` (e.g. "2020 年度·华东"), or of one part of it."""
    which = f"{volume}卷中的" if volume else ""
    return {
        "title": "销售合同销毁清单",
        "intro": f"以下{which}合同已满保存期限（截至{chinese_date(as_of)}），已履行完毕或已解除"
                 f"且无欠款，拟报销售经理批准后销毁。{_part_of(part, parts)}",
        "rows": _rows(items, start),
        "approval": "销售经理审批：　　　　　　　　　日期：",
        "chain": chain_line(audit_head),
    }  # fmt: skip


def certificate_context(items, approver: str, at: dt.datetime, note: str | None, *,
                        part: int = 1, parts: int = 1, start: int = 1,
                        zone: str | ZoneInfo = DEFAULT_ZONE,
                        audit_head: str = "") -> dict:  # fmt: skip
    """``approver`` as people read them (王经理（wang）); ``at`` (UTC) is shown in the local
    time of ``zone``, the zone named."""
    where = zone_of(zone)
    day = chinese_date(local_date(at, where))
    return {
        "title": "销售合同销毁记录",
        "intro": f"经销售经理 {approver} 于{day}批准，下列合同及其全部文件"
                 f"已销毁，检索条目已删除，登记信息保留备查。{_part_of(part, parts)}"
                 f"{('备注：' + note) if note else ''}",
        "rows": _rows(items, start),
        "approval": f"批准人：{approver}　　批准时间：{local_time(at, where, with_zone=True)}",
        "chain": chain_line(audit_head),
    }  # fmt: skip


def volume_name(year: int, region: str) -> str:
    return f"{year} 年度·{region}"


def properties(number: str, title: str) -> dict[str, str]:
    return {"title": f"{title} {number}", "subject": title, "keywords": f"{title}, {number}",
            "author": "hetong", "language": "zh-CN"}  # fmt: skip


class RowContext(Schema):
    no = fields.String()
    numbers = fields.String()  # contract number, then 档号
    parties = fields.String()  # seller, then buyer
    when = fields.String()  # signing date, then amount
    documents = fields.String()


class DestructionContext(Schema):
    number = fields.String()
    title = fields.String()
    intro = fields.String()
    rows = fields.List(fields.Nested(RowContext))
    approval = fields.String()
    chain = fields.String()  # the audit chain's head (chain_line)
