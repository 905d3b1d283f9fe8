"""The bound volume's own pages (DA/T 22 style): the cover (案卷封面), the contents (卷内目录)
with the page each document starts on, and the 备考表 at the end."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from templates.sales_contract import chinese_date

TEMPLATE = "volume_contents"
COVER = "volume_cover"
NOTES = "volume_notes"


def cover_context(head: dict[str, Any]) -> dict[str, Any]:
    """``head``: fonds, title, year, region, retention, count (contracts bound), documents,
    pages (of the documents), codes (the first and last 档号), person, date."""
    return {
        "fonds": head["fonds"], "title": head["title"], "year": str(head["year"]),
        "region": head["region"], "retention": head["retention"],
        "count": f"{head['count']} 件（文件 {head['documents']} 份）",
        "pages": f"{head['pages']} 页", "codes": head["codes"], "person": head["person"],
        "date": chinese_date(head["date"]),
    }  # fmt: skip


def context(head: dict[str, Any], entries: list[dict[str, Any]], note: str) -> dict[str, Any]:
    """``entries``: one per bound document, in order: code, number, title, date, pages, page
    (where it starts in the bound PDF, the cover being page 1)."""
    return {
        "title": head["title"], "codes": head["codes"],
        "entries": [{"no": str(n), "code": e["code"] or "", "number": e["number"],
                     "title": e["title"], "date": chinese_date(e["date"]),
                     "pages": str(e["pages"]), "page": str(e["page"])}
                    for n, e in enumerate(entries, start=1)],
        "note": note,
    }  # fmt: skip


def notes_context(head: dict[str, Any], destroyed: list, certificates: dict[str, str],
                  remarks: list[str]) -> dict[str, Any]:  # fmt: skip
    """``destroyed``: contracts of the volume destroyed under retention (not bound), with the
    number of the certificate that lists each in ``certificates``."""
    summary = (f"本卷共有 {head['count']} 件（文件 {head['documents']} 份），共 {head['pages']} 页"
               "（不含封面、卷内目录与本表）。")  # fmt: skip
    return {
        "title": head["title"], "codes": head["codes"], "summary": summary,
        "destroyed_note": f"另有 {len(destroyed)} 份合同已按保存期限销毁，文件不在本卷：",
        "destroyed": [{"contract_no": c.contract_no, "code": c.archival_code or "",
                       "buyer": c.buyer_name, "signed_on": chinese_date(c.signed_on),
                       "certificate": certificates.get(c.contract_no) or "—"}
                      for c in destroyed],
        "remarks": remarks, "person": head["person"], "date": chinese_date(head["date"]),
    }  # fmt: skip


def properties(title: str, part: str, year: int, region: str) -> dict[str, str]:
    full = f"{title} {part}"
    return {"title": full, "subject": full, "keywords": f"{part}, {year}, {region}",
            "author": "hetong", "language": "zh-CN"}  # fmt: skip


class EntryContext(Schema):
    no = fields.String()
    code = fields.String()
    number = fields.String()
    title = fields.String()
    date = fields.String()
    pages = fields.String()
    page = fields.String()


class VolumeContentsContext(Schema):
    title = fields.String()
    codes = fields.String()
    entries = fields.List(fields.Nested(EntryContext))
    note = fields.String()


class VolumeCoverContext(Schema):
    fonds = fields.String()
    title = fields.String()
    year = fields.String()
    region = fields.String()
    retention = fields.String()
    count = fields.String()
    pages = fields.String()
    codes = fields.String()
    person = fields.String()
    date = fields.String()


class DestroyedContext(Schema):
    contract_no = fields.String()
    code = fields.String()
    buyer = fields.String()
    signed_on = fields.String()
    certificate = fields.String()


class VolumeNotesContext(Schema):
    title = fields.String()
    codes = fields.String()
    summary = fields.String()
    destroyed_note = fields.String()
    destroyed = fields.List(fields.Nested(DestroyedContext))
    remarks = fields.List(fields.String())
    person = fields.String()
    date = fields.String()


# -- samples: the check's trial rendering and the proof's hard cases ---------------------------

SAMPLE_HEAD: dict[str, Any] = {
    "fonds": "上海申远机电设备有限公司", "title": "2026 年度华东区域销售合同", "year": 2026,
    "region": "华东", "retention": "5 年", "count": 30, "documents": 60, "pages": 180,
    "codes": "HT·2026·华东·0001 至 HT·2026·华东·0030", "person": "赵档案",
    "date": "2027-01-05",
}  # fmt: skip


def sample_entries(count: int = 30) -> list[dict[str, Any]]:
    """``count`` documents as a volume binds them, with long titles and codes."""
    entries, page = [], 3
    for i in range(1, count + 1):
        contract, seq = (i + 1) // 2, 1 + (i + 1) % 2
        number = f"HT-2026{contract % 12 + 1:02d}-{contract:04d}"
        kind = "销售合同" if seq == 1 else "补充协议"
        title = (f"{kind}　江苏省常州市武进区高新技术产业开发区精密数控装备制造有限责任公司"
                 if i % 4 == 1 else kind)  # fmt: skip
        pages = 1 + i % 3
        entries.append({"code": f"HT·2026·华东·{contract:04d}-{seq:02d}",
                        "number": number if seq == 1 else f"{number}-BC01", "title": title,
                        "date": f"2026-{contract % 12 + 1:02d}-28", "pages": pages,
                        "page": page})  # fmt: skip
        page += pages
    return entries
