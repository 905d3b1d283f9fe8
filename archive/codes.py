"""档号: a contract's place in its volume (signing year × region), and each dossier item's
place in its contract (001 §9-03 第15条: 编号、登记)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Contract, Document
from archive.numbering import advance

DEFAULT_PATTERN = "HT·{year}·{region}·{seq:04d}"


def assign_code(session: Session, contract: Contract, pattern: str = DEFAULT_PATTERN) -> str:
    """Give a new contract the next 档号 of its volume (year of signing × region)."""
    year, region = contract.signed_on.year, contract.region
    seq = advance(session, f"volume:{year}:{region}")
    contract.archival_code = pattern.format(year=year, region=region, seq=seq)
    return contract.archival_code


def document_code(session: Session, contract: Contract, number: str) -> str:
    """The 档号 of a dossier item: its contract's code and its place in the dossier."""
    numbers = list(session.scalars(
        select(Document.number).where(Document.contract_id == contract.id)
        .group_by(Document.number).order_by(Document.number)
    ))  # fmt: skip
    place = numbers.index(number) + 1 if number in numbers else len(numbers) + 1
    return f"{contract.archival_code}-{place:02d}"
