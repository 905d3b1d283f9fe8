"""The bound volume: one year × region of contracts as one PDF, as an archivist binds it."""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

from pypdf import PdfReader, PdfWriter
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive import audit, volumes
from archive.access import scope_of
from archive.actor import Actor
from archive.errors import InvalidData, NotFound
from archive.filing import render
from archive.models import AuditEntry, Contract, Document
from schemas.labels import KIND_NAMES, local_date
from templates import volume_contents

if TYPE_CHECKING:
    from archive.core import Archive

KIND_ORDER = {"sales_contract": 0, "amendment": 1, "delivery_notice": 2, "signed_scan": 3}


def bind(archive: Archive, year: int, region: str, actor: Actor, kind: str = "regular", *,
         purpose: str) -> bytes:  # fmt: skip
    """The volume as one PDF, DA/T 22 style: the cover (案卷封面), the contents (卷内目录)
    giving the page each document starts on (the cover is page 1), each contract in number
    order followed by its amendments, delivery notices and scans, and the 备考表 at the end;
    a bookmark per part and per document, read as titles (``补充协议 HT-…-BC01``).

    ``kind`` "unpaid" binds the unpaid volume (未收款另册): the contracts the sweep set
    apart with money owed, which the regular volume leaves out (``volumes.in_volume``).
    A contract destroyed under retention has no files left: the 备考表 names it with the
    number of its destruction certificate, and nothing of it is bound. A file the
    catalogue names but the store lost is a ``FileMissing`` naming the document.

    Only the contracts ``actor`` may see are bound (and named); the export is recorded
    with its ``purpose`` in the 查阅登记."""
    if not (purpose or "").strip():
        raise InvalidData({"purpose": ["导出案卷须说明用途（记入查阅登记）。"]})
    with archive.catalogue.reading() as session:
        where = (
            Contract.region == region,
            Contract.signed_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)),
            scope_of(session, actor).where(),
        )
        contracts = session.scalars(
            select(Contract).where(*where, volumes.in_volume(kind))
            .order_by(Contract.contract_no)
            .options(selectinload(Contract.documents), selectinload(Contract.amendments),
                     selectinload(Contract.deliveries))
        ).all()  # fmt: skip
        certificates = _certificates(session, [c.contract_no for c in contracts if c.gone])
        set_apart = [] if kind == "unpaid" else session.scalars(
            select(Contract.contract_no).where(*where, volumes.in_volume("unpaid"))
            .order_by(Contract.contract_no)
        ).all()  # fmt: skip
    name = volumes.title(year, region, kind)
    if not contracts:
        raise NotFound(f"{name} 卷没有合同。")
    unpaid = kind == "unpaid"
    kept = [c for c in contracts if not c.gone]
    destroyed = [c for c in contracts if c.gone]
    parts = []  # (contract, [(document, reader)])
    for contract in kept:
        pdfs = sorted((d for d in contract.current_documents if d.format == "pdf"),
                      key=lambda d: (KIND_ORDER.get(d.kind, 9), d.number, d.id))  # fmt: skip
        parts.append((contract, [(d, PdfReader(io.BytesIO(_read(archive, contract, d))))
                                 for d in pdfs]))  # fmt: skip
    documents = [(c, d, r) for c, docs in parts for d, r in docs]
    codes = [c.archival_code for c in kept if c.archival_code]  # what is bound
    head = {
        "fonds": "、".join(dict.fromkeys(c.seller_name for c in contracts)),
        "title": f"{year} 年度{region}区域销售合同" + ("（未收款另册）" if unpaid else ""),
        "year": year, "region": region,
        # Owed money keeps a contract until it is paid; then it is destroyed like the others.
        "retention": "至欠款收清" if kind == "unpaid" else
                     f"{archive.retention_years['sales_contract']} 年",
        "count": len(parts), "documents": len(documents),
        "pages": sum(len(r.pages) for _, _, r in documents),
        "codes": f"{min(codes)} 至 {max(codes)}" if codes else "—",
        "person": actor.display_name or actor.name,
        "date": dt.datetime.now(archive.zone).date(),
    }  # fmt: skip

    def pdf(template: str, context: dict, part: str) -> PdfReader:
        props = volume_contents.properties(head["title"], part, year, region)
        return PdfReader(io.BytesIO(render(archive, template, context, props).pdf))

    def entries(first: int) -> list[dict]:
        rows, page = [], first
        for contract, doc, reader in documents:
            rows.append({"code": doc.archival_code, "number": doc.number,
                         "title": _title(contract, doc), "date": _date(archive, contract, doc),
                         "pages": len(reader.pages), "page": page})  # fmt: skip
            page += len(reader.pages)
        return rows

    note = ("页号为文件在本卷中的起始页（封面为第 1 页）；每份合同之后依次为其补充协议、"
            "发货通知单与签署扫描件。")  # fmt: skip
    if destroyed:
        note += f"另有 {len(destroyed)} 份合同已按保存期限销毁，见卷末备考表。"
    cover = pdf(volume_contents.COVER, volume_contents.cover_context(head), "案卷封面")
    # The start pages depend on how many pages the contents takes: render until it agrees.
    guess = 1
    for _ in range(4):
        contents = pdf(volume_contents.TEMPLATE,
                       volume_contents.context(head, entries(len(cover.pages) + guess + 1), note),
                       "卷内目录")  # fmt: skip
        if len(contents.pages) == guess:
            break
        guess = len(contents.pages)
    notes = pdf(volume_contents.NOTES,
                volume_contents.notes_context(head, destroyed, certificates,
                                              _remarks(year, region, kind, set_apart)),
                "卷内备考表")  # fmt: skip

    writer = PdfWriter()
    writer.append(cover)
    writer.add_outline_item(title="案卷封面", page_number=0)
    writer.append(contents)
    writer.add_outline_item(title="卷内目录", page_number=len(cover.pages))
    for contract, docs in parts:
        parent = writer.add_outline_item(
            title=f"{contract.archival_code} {contract.contract_no} {contract.buyer_name}",
            page_number=len(writer.pages),
        )
        for doc, reader in docs:
            at = len(writer.pages)
            writer.append(reader)
            writer.add_outline_item(title=f"{KIND_NAMES.get(doc.kind, doc.kind)} {doc.number}",
                                    page_number=at, parent=parent)  # fmt: skip
    at = len(writer.pages)
    writer.append(notes)
    writer.add_outline_item(title="备考表", page_number=at)
    writer.add_metadata({"/Title": f"销售合同档案 {head['title']}", "/Author": "hetong"})
    out = io.BytesIO()
    writer.write(out)
    with archive.catalogue.writing() as session:
        audit.record(session, actor, "volume.export",
                     f"{year}/{region}" + ("/未收款另册" if kind == "unpaid" else ""),
                     note=purpose.strip(),
                     kind=kind, contracts=[c.contract_no for c in kept],
                     destroyed=sorted(certificates))  # fmt: skip
    return out.getvalue()


def _title(contract: Contract, doc: Document) -> str:
    """题名 in the contents: what the document is, and for a contract its buyer."""
    name = KIND_NAMES.get(doc.kind, doc.kind)
    if doc.kind == "sales_contract":
        return f"{name}（需方：{contract.buyer_name}）"
    if doc.kind == "amendment":
        reason = next((a.reason for a in contract.amendments if a.number == doc.number), "")
        return f"{name}（{reason.rstrip('。；，')}）" if reason else name
    if doc.kind == "delivery_notice":
        return f"{name}（一式六联）"
    return f"{name}（{contract.contract_no}）"


def _date(archive: Archive, contract: Contract, doc: Document) -> dt.date:
    """The document's own date: signing, an amendment's effect, a delivery; a scan's filing."""
    if doc.kind == "sales_contract":
        return contract.signed_on
    for a in contract.amendments:
        if a.number == doc.number:
            return a.effective_on
    for d in contract.deliveries:
        if d.number == doc.number:
            return d.delivery_date
    return local_date(doc.created_at, archive.zone)


def _remarks(year: int, region: str, kind: str, set_apart: list[str]) -> list[str]:
    if kind == "unpaid":
        return [
            f"本册为 {volumes.title(year, region)} 卷的未收款另册：合同保存期满时尚有欠款，"
            "由保存期限检查移出原卷、另册保管；欠款收清后列入待销毁清单，经销售经理批准销毁。"
        ]
    if not set_apart:
        return []
    # one number a line: a contract number is never split
    return [f"另有 {len(set_apart)} 份合同保存期满时尚有欠款，已移入 "
            f"{volumes.title(year, region, 'unpaid')} 另行保管，不在本卷：",
            *set_apart]  # fmt: skip


def _read(archive: Archive, contract: Contract, doc: Document) -> bytes:
    code = f"（档号 {doc.archival_code}）" if doc.archival_code else ""
    what = f"合同 {contract.contract_no} 的文件 {doc.filename}{code}"
    return archive.storage.read(doc.sha256, what)


def _certificates(session: Session, numbers: list[str]) -> dict[str, str]:
    """Destroyed contract → the number of the destruction certificate (销毁记录) that lists
    it, as its approval recorded it ("" if none was found)."""
    found = {no: "" for no in numbers}
    if numbers:
        approvals = session.execute(
            select(AuditEntry.target, AuditEntry.detail)
            .where(AuditEntry.action == "retention.destroy_approved",
                   AuditEntry.target.in_(numbers))
            .order_by(AuditEntry.id)
        )  # fmt: skip
        for number, detail in approvals:
            found[number] = (detail or {}).get("certificate") or found[number]
    return found
