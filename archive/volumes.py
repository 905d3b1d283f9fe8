"""Volumes (按年、按区域装订成册): archival codes, listing, and the bound volume as one PDF."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Contract, Document, Sequence

DEFAULT_PATTERN = "HT·{year}·{region}·{seq:04d}"


def assign_code(session: Session, contract: Contract, pattern: str = DEFAULT_PATTERN) -> str:
    """Give a new contract the next 档号 of its volume (year of signing × region)."""
    year, region = contract.signed_on.year, contract.region
    scope = f"volume:{year}:{region}"
    row = session.scalar(select(Sequence).where(Sequence.scope == scope))
    if row is None:
        row = Sequence(scope=scope, last=0)
        session.add(row)
    row.last += 1
    contract.archival_code = pattern.format(year=year, region=region, seq=row.last)
    return contract.archival_code


def document_code(session: Session, contract: Contract, number: str) -> str:
    """The 档号 of a dossier item: its contract's code and its place in the dossier."""
    numbers = list(session.scalars(
        select(Document.number).where(Document.contract_id == contract.id)
        .group_by(Document.number).order_by(Document.number)
    ))  # fmt: skip
    place = numbers.index(number) + 1 if number in numbers else len(numbers) + 1
    return f"{contract.archival_code}-{place:02d}"


# -- listing and binding -----------------------------------------------------------------------

KIND_ORDER = {"sales_contract": 0, "amendment": 1, "delivery_notice": 2, "signed_scan": 3}


def list_volumes(archive) -> list[dict]:
    """Volumes by year × region, with how many contracts and documents each holds."""
    from sqlalchemy import func

    year = func.strftime("%Y", Contract.signed_on)
    with archive.catalogue.reading() as session:
        contracts = session.execute(
            select(year, Contract.region, func.count(Contract.id))
            .group_by(year, Contract.region).order_by(year, Contract.region)
        ).all()  # fmt: skip
        documents = dict(
            ((y, r), n) for y, r, n in session.execute(
                select(year, Contract.region, func.count(func.distinct(Document.number)))
                .join(Document, Document.contract_id == Contract.id)
                .group_by(year, Contract.region)
            )
        )  # fmt: skip
    return [
        {"year": int(y), "region": r, "contracts": n, "documents": documents.get((y, r), 0)}
        for y, r, n in contracts
    ]


def bind(archive, year: int, region: str, actor) -> bytes:
    """The volume as one PDF: a contents page, then each contract in number order followed
    by its amendments, delivery notices and scans, with a bookmark per contract."""
    import io

    from pypdf import PdfReader, PdfWriter
    from sqlalchemy.orm import selectinload

    from archive import audit
    from archive.errors import NotFound
    from archive.filing import render
    from templates import volume_contents

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
