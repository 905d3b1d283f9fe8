"""The audit log's hash chain: each entry carries the hash of the one before it, so an entry
edited, inserted or removed afterwards breaks the chain where it happened.

An entry is sealed — given its place ``seq`` and its hashes — as its transaction commits: the
chain is taken (an advisory lock on PostgreSQL; SQLite has one writer at a time) only for
that last moment, after every row lock the transaction needed, so it never waits in a
circle with them. The chain's order is the order of sealing.

The form hashed is fixed for good (version ``v1``): entries written years ago are checked
with it. Anyone who can write the database could recompute the whole chain; what they cannot
change are the heads already copied elsewhere — every backup manifest and every destruction
list and certificate names the head of its day (``hetong audit verify --against``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from archive.catalogue import Catalogue, hold_in_transaction
from archive.models import AuditEntry

# The hash a chain's first entry links to.
GENESIS = "0" * 64
_UNSEALED = "hetong.audit_unsealed"


def stamp(at: dt.datetime) -> str:
    """A time as hashed: UTC, microseconds (what both databases keep)."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(detail: Any) -> Any:
    """``detail`` as a JSON column gives it back (tuples as lists, keys as strings)."""
    return json.loads(json.dumps(detail if detail is not None else {}, default=str))


def link(prev: str, *, at: dt.datetime, actor: str, action: str, target: str | None,
         detail: Any, client: str | None, note: str | None) -> str:  # fmt: skip
    """The hash of one entry, chained to ``prev`` (the hash of the entry before it)."""
    body = {"v": 1, "prev": prev, "at": stamp(at), "actor": actor, "action": action,
            "target": target, "detail": canonical(detail), "client": client,
            "note": note}  # fmt: skip
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- sealing ----------------------------------------------------------------------------------


def add(session: Session, entry: AuditEntry) -> None:
    """Add ``entry`` to the transaction; it is sealed when the transaction commits."""
    session.add(entry)
    session.info.setdefault(_UNSEALED, []).append(entry)


@event.listens_for(Session, "before_commit")
def _seal(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction goes on
        return
    entries = [e for e in session.info.pop(_UNSEALED, ()) if e in session]  # not rolled back
    if not entries:
        return
    hold_in_transaction(session, "audit-chain")
    newest = session.execute(select(AuditEntry.seq, AuditEntry.hash)
                             .where(AuditEntry.seq.is_not(None))
                             .order_by(AuditEntry.seq.desc()).limit(1)).first()  # fmt: skip
    seq, prev = (newest.seq, newest.hash) if newest else (0, GENESIS)
    for entry in entries:  # in the order they were recorded
        seq += 1
        entry.seq, entry.prev_hash = seq, prev
        entry.hash = prev = link(prev, at=entry.at, actor=entry.actor, action=entry.action,
                                 target=entry.target, detail=entry.detail,
                                 client=entry.client, note=entry.note)  # fmt: skip


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction) -> None:
    """The whole transaction rolled back: its entries are gone. (A savepoint's rollback
    expunges only its own, which ``_seal`` then passes over.)"""
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(_UNSEALED, None)


# -- verifying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainHead:
    """The newest entry of the chain: its place and hash (0: an empty chain)."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> ChainHead:
        number, _, digest = text.strip().partition(":")
        if not number.isdigit() or len(digest) != 64:
            raise ValueError(f"链头应为“序号:哈希”（64 位十六进制）：{text!r}")
        return cls(int(number), digest.lower())


EMPTY = ChainHead(0, GENESIS)


@dataclass(frozen=True)
class ChainCheck:
    """What ``verify`` found: the entries walked, the head, and the first broken link."""

    count: int
    head: ChainHead
    broken: int | None = None  # the place (seq) of the first entry that does not hold
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def head_of(catalogue: Catalogue) -> ChainHead:
    """The chain's newest sealed entry."""
    newest = (select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.is_not(None))
              .order_by(AuditEntry.seq.desc()).limit(1))  # fmt: skip
    with catalogue.reading() as session:
        row = session.execute(newest).first()
    return ChainHead(row.seq, row.hash) if row else EMPTY


_COLUMNS = (AuditEntry.seq, AuditEntry.at, AuditEntry.actor, AuditEntry.action,
            AuditEntry.target, AuditEntry.detail, AuditEntry.client, AuditEntry.note,
            AuditEntry.prev_hash, AuditEntry.hash)  # fmt: skip


def verify(catalogue: Catalogue, *, against: ChainHead | None = None,
           batch: int = 5000) -> ChainCheck:  # fmt: skip
    """Walk the chain from its first entry: every entry must hash to what it says, and link
    to the entry before it; no entry may be outside it. ``against``: a head kept elsewhere
    (a backup manifest, a destruction certificate) that must still be in it, unchanged."""
    prev, count, last = GENESIS, 0, EMPTY
    with catalogue.reading() as session:
        while True:
            rows = session.execute(select(*_COLUMNS).where(AuditEntry.seq > last.seq)
                                   .order_by(AuditEntry.seq).limit(batch)).all()  # fmt: skip
            for row in rows:
                count += 1
                if problem := _broken(row, prev, last.seq):
                    return ChainCheck(count, last, row.seq, problem)
                prev, last = row.hash, ChainHead(row.seq, row.hash)
                if against and row.seq == against.seq and row.hash != against.hash:
                    problem = f"第 {row.seq} 条审计记录与所对照的链头不符：此前的历史被改写。"
                    return ChainCheck(count, last, row.seq, problem)
            if len(rows) < batch:
                break
        outside = session.scalar(select(func.min(AuditEntry.id)).where(AuditEntry.seq.is_(None)))
    if outside is not None:
        problem = f"审计记录（编号 {outside}）不在哈希链中：它不是经由本程序写入的。"
        return ChainCheck(count, last, None, problem)
    if against and against.seq > last.seq:
        return ChainCheck(count, last, against.seq,
                          f"所对照的链头（第 {against.seq} 条）已不在审计记录中：第 {last.seq} "
                          "条之后的记录被删除。")  # fmt: skip
    return ChainCheck(count, last)


def _broken(row: Any, prev: str, before: int) -> str | None:
    if row.seq != before + 1 or row.prev_hash != prev:
        return f"第 {row.seq} 条审计记录与前一条接不上：其前有记录被删除、插入或改动。"
    digest = link(prev, at=row.at, actor=row.actor, action=row.action, target=row.target,
                  detail=row.detail, client=row.client, note=row.note)  # fmt: skip
    if digest != row.hash:
        return f"第 {row.seq} 条审计记录写入后被改动（内容与其哈希不符）。"
    return None


__all__ = ["EMPTY", "GENESIS", "ChainCheck", "ChainHead", "add", "head_of", "link", "verify"]
