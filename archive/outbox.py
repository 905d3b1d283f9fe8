"""The index outbox: the contracts whose search entries must be rewritten.

A change records its contract in ``index_outbox`` inside the transaction that makes it, so
the entry cannot be forgotten: the indexer applies the outbox after the commit (woken by
the catalogue's after-commit topic ``index``) and again at every start.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.catalogue import notify
from archive.models import IndexOutbox

TOPIC = "index"


def enqueue(session: Session, contract_no: str) -> None:
    """Record, in the caller's transaction, that this contract's entries must be rewritten."""
    session.add(IndexOutbox(contract_no=contract_no))
    notify(session, TOPIC)
