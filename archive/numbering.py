"""Document numbers such as HT-202611-0001: per-scope sequences without gaps or duplicates.

A document shows its number, so the number must exist before the document is rendered —
and rendering (LibreOffice) happens outside the filing transaction, so that one slow
conversion never holds up every other write. Hence numbers are *reserved*:

1. ``reserve`` takes the lowest number of the scope that an earlier, failed filing gave back,
   or else the next one of the sequence (its row locked: concurrent reservations queue on it,
   on SQLite and PostgreSQL alike), in a short transaction of its own;
2. the filing transaction ``use``-s it (the reservation disappears with the commit);
3. a filing that fails ``release``-s it for the next filing of the scope; a reservation whose
   holder died (a crash mid-rendering) is released at start-up after ``STALE``.

So a number is used exactly once, and none is skipped for good.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.catalogue import Catalogue
from archive.errors import Conflict
from archive.models import NumberReservation, Sequence, utcnow

log = logging.getLogger(__name__)

# Longer than any rendering may take (the converter's timeout is a minute).
STALE = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Reserved:
    """A number held for one filing."""

    id: int
    token: str
    scope: str
    seq: int
    number: str


def _format(pattern: str, day: dt.date, seq: int) -> str:
    try:
        return pattern.format(year=day.year, month=day.month, day=day.day, seq=seq)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"bad number pattern {pattern!r}: {exc}") from exc


def scope_of(pattern: str, day: dt.date) -> str:
    """The pattern filled in with seq=0 names the series: HT-202611-0000 → one a month."""
    return _format(pattern, day, 0)


def advance(session: Session, scope: str) -> int:
    """The next value of a sequence, its row locked until the caller's transaction ends."""
    row = session.scalar(select(Sequence).where(Sequence.scope == scope).with_for_update())
    if row is None:
        try:
            with session.begin_nested():  # two first users of a scope: one insert wins
                session.add(Sequence(scope=scope, last=0))
        except IntegrityError:
            pass
        row = session.scalar(select(Sequence).where(Sequence.scope == scope).with_for_update())
    row.last += 1
    session.flush()
    return row.last


def catch_up(session: Session, scope: str, seq: int) -> None:
    """Make the next number of ``scope`` come after ``seq``: one issued by another copy of
    the catalogue (after the backup a restored one was made from)."""
    row = session.scalar(select(Sequence).where(Sequence.scope == scope).with_for_update())
    if row is None:
        session.add(Sequence(scope=scope, last=seq))
    elif row.last < seq:
        row.last = seq


def reserve(catalogue: Catalogue, pattern: str, day: dt.date) -> Reserved:
    """Hold the next number of ``pattern`` on ``day`` (fields: year, month, day, seq)."""
    scope = scope_of(pattern, day)
    with catalogue.writing() as session:
        returned = session.scalar(
            select(NumberReservation)
            .where(NumberReservation.scope == scope, NumberReservation.state == "released")
            .order_by(NumberReservation.seq).limit(1).with_for_update(skip_locked=True)
        )  # fmt: skip
        token = secrets.token_hex(16)
        if returned is not None:
            returned.state, returned.token, returned.reserved_at = "reserved", token, utcnow()
            held = returned
        else:
            seq = advance(session, scope)
            held = NumberReservation(scope=scope, seq=seq, number=_format(pattern, day, seq),
                                     state="reserved", token=token)  # fmt: skip
            session.add(held)
        session.flush()
        return Reserved(held.id, token, scope, held.seq, held.number)


def use(session: Session, reserved: Reserved) -> None:
    """In the filing transaction: the number is taken for good once it commits."""
    gone = session.execute(
        delete(NumberReservation)
        .where(NumberReservation.id == reserved.id, NumberReservation.token == reserved.token,
               NumberReservation.state == "reserved")
    )  # fmt: skip
    if gone.rowcount != 1:  # released as stale meanwhile: someone else may hold it now
        raise Conflict(f"编号 {reserved.number} 的预留已失效，请重试。")


def release(catalogue: Catalogue, reserved: Reserved) -> None:
    """Give a number back after a failed filing: the next filing of its scope takes it."""
    with catalogue.writing() as session:
        session.execute(
            update(NumberReservation)
            .where(NumberReservation.id == reserved.id, NumberReservation.token == reserved.token,
                   NumberReservation.state == "reserved")
            .values(state="released")
        )  # fmt: skip
    log.info("number %s given back for reuse", reserved.number)


def release_stale(catalogue: Catalogue, *, older_than: dt.timedelta = STALE) -> int:
    """Release reservations whose holder died (start-up); return how many."""
    with catalogue.writing() as session:
        freed = session.execute(
            update(NumberReservation)
            .where(NumberReservation.state == "reserved",
                   NumberReservation.reserved_at < utcnow() - older_than)
            .values(state="released")
        ).rowcount  # fmt: skip
    if freed:
        log.warning("%d number(s) reserved by filings that never finished are free again", freed)
    return freed


def next_number(session: Session, pattern: str, day: dt.date) -> str:
    """The next number, inside the caller's transaction (for numbers nothing renders first)."""
    scope = scope_of(pattern, day)
    return _format(pattern, day, advance(session, scope))
