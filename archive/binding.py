"""The bound volume: one year × region of contracts as one PDF, as an archivist binds it."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from pypdf import PdfReader, PdfWriter
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive import audit
from archive.audit import Actor
from archive.errors import NotFound
from archive.filing import render
from archive.models import AuditEntry, Contract, Document
from templates import volume_contents

if TYPE_CHECKING:
    from archive.core import Archive

KIND_ORDER = {"sales_contract": 0, "amendment": 1, "delivery_notice": 2, "signed_scan": 3}


def bind(archive: Archive, year: int, region: str, actor: Actor) -> bytes:
    """The volume as one PDF: a contents page, then each contract in number order followed
    by its amendments, delivery notices and scans, with a bookmark per contract.

    A contract destroyed under retention has no files left: the contents page names it with
    the number of its destruction certificate, and nothing of it is bound. A file the
    catalogue names but the store lost is a ``FileMissing`` naming the document."""
    with archive.catalogue.reading() as session:
        contracts = session.scalars(
            select(Contract)
            .where(Contract.region == region,
                   Contract.signed_on.between(f"{year}-01-01", f"{year}-12-31"))
            .order_by(Contract.contract_no)
            .options(selectinload(Contract.documents))
        ).all()  # fmt: skip
        certificates = _certificates(session, [c.contract_no for c in contracts if c.gone])
    if not contracts:
        raise NotFound(f"{year} 年 {region} 卷没有合同。")
    parts = []  # (contract, [(document, reader)]), the destroyed ones without documents
    for contract in contracts:
        if contract.gone:
            parts.append((contract, []))
            continue
        pdfs = sorted((d for d in contract.documents if d.format == "pdf"),
                      key=lambda d: (KIND_ORDER.get(d.kind, 9), d.number, d.id))  # fmt: skip
        parts.append((contract, [(d, PdfReader(io.BytesIO(_read(archive, contract, d))))
                                 for d in pdfs]))  # fmt: skip

    def contents(offset: int) -> bytes:
        page = offset + 1
        rows = []
        for contract, docs in parts:
            pages = sum(len(r.pages) for _, r in docs)
            rows.append((contract, len(docs), None if contract.gone else page))
            page += pages
        context = volume_contents.context(year, region, rows, certificates)
        props = volume_contents.properties(year, region)
        return render(archive, volume_contents.TEMPLATE, context, props).pdf

    cover = contents(1)
    cover_pages = len(PdfReader(io.BytesIO(cover)).pages)
    if cover_pages != 1:
        cover = contents(cover_pages)
    writer = PdfWriter()
    writer.append(io.BytesIO(cover))
    for contract, docs in parts:
        if contract.gone:
            continue
        start = len(writer.pages)
        parent = writer.add_outline_item(
            title=f"{contract.archival_code} {contract.contract_no} {contract.buyer_name}",
            page_number=start,
        )
        for doc, reader in docs:
            at = len(writer.pages)
            writer.append(reader)
            writer.add_outline_item(
                title=f"{doc.archival_code} {doc.filename}", page_number=at, parent=parent
            )
    writer.add_metadata({"/Title": f"销售合同档案 {year}年 {region}卷", "/Author": "hetong"})
    out = io.BytesIO()
    writer.write(out)
    with archive.catalogue.writing() as session:
        audit.record(session, actor, "volume.export", f"{year}/{region}",
                     contracts=[c.contract_no for c, _ in parts if not c.gone],
                     destroyed=sorted(certificates))  # fmt: skip
    return out.getvalue()


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
