"""The bound volume: one year × region of contracts as one PDF, as an archivist binds it."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from pypdf import PdfReader, PdfWriter
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive import audit
from archive.audit import Actor
from archive.errors import NotFound
from archive.filing import render
from archive.models import Contract
from templates import volume_contents

if TYPE_CHECKING:
    from archive.core import Archive

KIND_ORDER = {"sales_contract": 0, "amendment": 1, "delivery_notice": 2, "signed_scan": 3}


def bind(archive: Archive, year: int, region: str, actor: Actor) -> bytes:
    """The volume as one PDF: a contents page, then each contract in number order followed
    by its amendments, delivery notices and scans, with a bookmark per contract."""
    with archive.catalogue.reading() as session:
        contracts = session.scalars(
            select(Contract)
            .where(Contract.region == region,
                   Contract.signed_on.between(f"{year}-01-01", f"{year}-12-31"))
            .order_by(Contract.contract_no)
            .options(selectinload(Contract.documents))
        ).all()  # fmt: skip
    if not contracts:
        raise NotFound(f"{year} 年 {region} 卷没有合同。")
    parts = []  # (contract, [(document, reader)])
    for contract in contracts:
        pdfs = sorted((d for d in contract.documents if d.format == "pdf"),
                      key=lambda d: (KIND_ORDER.get(d.kind, 9), d.number, d.id))  # fmt: skip
        parts.append((contract, [(d, PdfReader(io.BytesIO(archive.storage.get(d.sha256))))
                                 for d in pdfs]))  # fmt: skip

    def contents(offset: int) -> bytes:
        page = offset + 1
        rows = []
        for contract, docs in parts:
            pages = sum(len(r.pages) for _, r in docs)
            rows.append((contract, len(docs), page))
            page += pages
        context = volume_contents.context(year, region, rows)
        props = volume_contents.properties(year, region)
        return render(archive, volume_contents.TEMPLATE, context, props).pdf

    cover = contents(1)
    cover_pages = len(PdfReader(io.BytesIO(cover)).pages)
    if cover_pages != 1:
        cover = contents(cover_pages)
    writer = PdfWriter()
    writer.append(io.BytesIO(cover))
    for contract, docs in parts:
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
                     contracts=[c.contract_no for c, _ in parts])  # fmt: skip
    return out.getvalue()
