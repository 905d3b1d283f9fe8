"""Document numbers such as HT-202611-0001: per-scope sequences in the catalogue.

The sequence is advanced inside the filing transaction, so a failed filing gives
its number back (the transaction rolls back) and two filings never share one
(writers hold SQLite's write lock from BEGIN IMMEDIATE).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Sequence


def _format(pattern: str, day: dt.date, seq: int) -> str:
    try:
        return pattern.format(year=day.year, month=day.month, day=day.day, seq=seq)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"bad number pattern {pattern!r}: {exc}") from exc


def next_number(session: Session, pattern: str, day: dt.date) -> str:
    """The next number for ``day`` under ``pattern`` (fields: year, month, day, seq)."""
    # The pattern filled in with seq=0 names the scope: HT-202611-0000 → one series a month.
    scope = _format(pattern, day, 0)
    row = session.scalar(select(Sequence).where(Sequence.scope == scope))
    if row is None:
        row = Sequence(scope=scope, last=0)
        session.add(row)
    row.last += 1
    session.flush()
    return _format(pattern, day, row.last)
