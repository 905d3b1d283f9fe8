"""Keeping the search index in step with the catalogue.

What a filed document contributes (:func:`entries`): its own text and its own products,
with its contract's parties, region, state and amount, and who may find it (its owner and
密级, for the access rule). Changes reach the index through the outbox (``archive.outbox``):
the :class:`Indexer` reads queued contracts, rewrites their entries in one engine batch,
and only then removes exactly the rows it handled, so a crash delays an entry but never
loses it. It runs in a background thread in ``hetong serve`` (woken by every commit, and
polling for changes made by other processes), or at once after each commit where no thread
runs (the CLI, tests), or from cron (``hetong index apply``).

One indexer at a time per catalogue: the catalogue's ``indexer`` lock (a file lock beside
SQLite, an advisory lock in PostgreSQL) makes reading the outbox, writing the entries and
clearing the rows one step, across threads, processes and machines, and a rebuild holds it
throughout, so no stale batch can land after a rebuild.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import selectinload

from archive.access import secrecy
from archive.catalogue import Catalogue
from archive.models import Contract, Document, IndexOutbox
from archive.receivables import payment_state
from archive.search import Engine, Entry
from archive.storage import Storage
from schemas.labels import KIND_NAMES
from schemas.money import to_cents
from templates.text import docx_text
from templates.uploads import UploadRejected, inspect_upload

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (contracts done, contracts in all)
LOCK = "indexer"


# -- what a document contributes ---------------------------------------------------------------


def entries(contract: Contract, storage: Storage | None = None,
            recovered: dict[int, str] | None = None) -> list[Entry]:  # fmt: skip
    """The entries of a live dossier, one per document (none once it is destroyed).

    Needs the contract's documents, amendments and deliveries loaded. A document filed before
    texts were kept has its words read from its file (``storage``); they are added to
    ``recovered`` (document id → text) for the caller to save."""
    if contract.gone:
        return []
    shared = {
        "contract_no": contract.contract_no, "region": contract.region,
        "year": contract.signed_on.year, "status": contract.status,
        "payment_state": payment_state(contract, dt.date.today())["payment_state"],
        "signed_on": contract.signed_on, "amount_cents": to_cents(contract.total),
        "buyer": contract.buyer_name, "seller": contract.seller_name,
        # Who may find it (archive.access): in the fingerprint too, so an entry indexed
        # before a reassignment or a change of 密级 is found stale by the check.
        "owner": contract.owner, "secrecy": secrecy(contract),
    }  # fmt: skip
    products = _products(contract)
    result = []
    for number, docs in _by_number(contract).items():
        kind = docs[0].kind
        fields = {
            **shared, "key": number, "number": number, "kind": kind,
            "title": f"{KIND_NAMES.get(kind, kind)} {number}",
            "archival_code": docs[0].archival_code or "",
            "products": products.get(number, ""), "text": _text(docs, storage, recovered),
        }  # fmt: skip
        result.append(Entry(**fields, fingerprint=_fingerprint(fields)))
    return result


def _by_number(contract: Contract) -> dict[str, list[Document]]:
    grouped: dict[str, list[Document]] = {}
    for doc in contract.current_documents:  # a superseded draft is not found any more
        if doc.destroyed_at is None:
            grouped.setdefault(doc.number, []).append(doc)
    return grouped


def _products(contract: Contract) -> dict[str, str]:
    """Document number → the products that document itself names."""
    signed = contract.data.get("items") or []
    current = contract.terms.get("items") or []
    found = {contract.contract_no: _names(signed)}
    for amendment in contract.amendments:
        lines = []
        for change in amendment.changes:
            item = change.get("item")
            if item is not None and item < len(current):
                lines.append(current[item]["name"])
                if change["field"] == "spec":
                    lines += [change.get("before") or "", change.get("after") or ""]
                else:
                    lines.append(current[item].get("spec") or "")
        found[amendment.number] = " ".join(part for part in lines if part)
    for delivery in contract.deliveries:
        found[delivery.number] = _names(delivery.lines)
    return found


def _names(lines: list[dict[str, Any]]) -> str:
    return " ".join(f"{line['name']} {line.get('spec') or ''}".strip() for line in lines)


def _text(docs: list[Document], storage: Storage | None,
          recovered: dict[int, str] | None) -> str:  # fmt: skip
    for doc in docs:
        if doc.text is not None:
            return doc.text
    if storage is None:
        return ""
    # Filed before texts were kept (revision 0006): read the file once; the caller saves it.
    doc = next((d for d in docs if d.format == "docx"), docs[0])
    data = storage.get(doc.sha256)
    text = docx_text(data) if doc.format == "docx" else _scan_text(data)
    if recovered is not None:
        recovered[doc.id] = text
    return text


def _scan_text(data: bytes) -> str:
    """An old scan's words, read by the bounded worker: it is an upload, hence hostile."""
    try:
        return inspect_upload(data).text
    except UploadRejected as exc:
        log.warning("no text from a scan filed before uploads were checked: %s", exc.message)
        return ""


def _fingerprint(fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _loading():
    return (selectinload(Contract.documents), selectinload(Contract.amendments),
            selectinload(Contract.deliveries))  # fmt: skip


# -- the indexer -------------------------------------------------------------------------------


class Indexer:
    """Applies the outbox to the engine; rebuilds and checks the whole index."""

    def __init__(
        self, catalogue: Catalogue, storage: Storage, engine: Engine, *,
        batch_size: int = 500, poll_seconds: float = 1.0,
    ) -> None:  # fmt: skip
        self.catalogue = catalogue
        self.storage = storage
        self.engine = engine
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- applying the outbox ---------------------------------------------------------------

    def committed(self) -> None:
        """After a commit that queued index work: wake the background indexer, or, where
        none runs, apply at once (a failure only delays the entry: the outbox keeps it)."""
        if self.running:
            self._wake.set()
            return
        try:
            # Whoever holds the lock (another thread's apply, a rebuild) sees these rows
            # before it lets go: never wait for it on a request's path.
            self.apply_pending(wait=False)
        except Exception:
            log.exception("index update failed; it stays queued and is retried")

    def apply_pending(self, *, wait: bool = True) -> int:
        """Rewrite the entries of every queued contract; return how many contracts.

        Without ``wait``, return at once when another indexer holds the lock."""
        done = 0
        while True:
            try:
                with self.catalogue.lock(LOCK, blocking=wait):
                    handled, rows = self._apply_batch()
            except BlockingIOError:
                return done
            done += handled
            # Rows committed while we held the lock were left by their committers for us.
            if rows < self.batch_size and not self.pending():
                return done

    def _apply_batch(self) -> tuple[int, int]:
        with self.catalogue.reading() as session:
            rows = session.execute(
                select(IndexOutbox.id, IndexOutbox.contract_no)
                .order_by(IndexOutbox.id).limit(self.batch_size)
            ).all()  # fmt: skip
            if not rows:
                return 0, 0
            numbers = sorted({no for _, no in rows})
            contracts = session.scalars(
                select(Contract).where(Contract.contract_no.in_(numbers)).options(*_loading())
            ).all()
            texts: dict[int, str] = {}
            built = {c.contract_no: entries(c, self.storage, texts) for c in contracts}
        with self.engine.batch() as batch:
            for number in numbers:
                batch.delete_contract(number)
                for entry in built.get(number, []):
                    batch.add(entry)
        with self.catalogue.writing() as session:
            # Exactly the rows handled: one queued meanwhile (even with a lower id, committed
            # late by a slower transaction) stays for the next round.
            session.execute(delete(IndexOutbox).where(IndexOutbox.id.in_([r[0] for r in rows])))
            _save_texts(session, texts)
        log.info("index: rewrote %d contract(s)", len(numbers))
        return len(numbers), len(rows)

    def pending(self, contract_no: str | None = None) -> int:
        """How many changes are queued (for one contract, or in all)."""
        query = select(func.count(IndexOutbox.id))
        if contract_no is not None:
            query = query.where(IndexOutbox.contract_no == contract_no)
        with self.catalogue.reading() as session:
            return session.scalar(query) or 0

    def wait_for(self, contract_no: str, *, timeout: float = 10.0) -> bool:
        """Wait until ``contract_no`` has no queued change; False if ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        while self.pending(contract_no):
            if time.monotonic() >= deadline:
                return False
            self._wake.set()
            time.sleep(0.05)
        return True

    # -- the background thread -------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Index in a background thread from now on (``hetong serve``)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="indexer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            # Woken by our own commits; the timeout picks up other processes' changes.
            self._wake.wait(self.poll_seconds if not failures else min(60, 2**failures))
            self._wake.clear()
            try:
                self.apply_pending()
                failures = 0
            except Exception:
                failures += 1
                log.exception("index update failed (attempt %d); retrying", failures)

    # -- rebuilding and checking ------------------------------------------------------------

    def rebuild(self, *, progress: Progress | None = None) -> int:
        """Build a fresh index from the catalogue, in bounded batches, and switch to it; the
        current index keeps answering meanwhile. Returns the number of entries."""
        with self.catalogue.lock(LOCK):
            with self.catalogue.reading() as session:
                covered = session.scalar(select(func.max(IndexOutbox.id))) or 0
                total = session.scalar(select(func.count(Contract.id))) or 0
            count = self.engine.rebuild(self._all_entries(total, progress))
            with self.catalogue.writing() as session:
                # Changes queued before the rebuild started are in it; later ones stay.
                session.execute(delete(IndexOutbox).where(IndexOutbox.id <= covered))
        self.apply_pending()  # what was queued meanwhile, into the new index
        return count

    def _all_entries(self, total: int, progress: Progress | None) -> Iterator[list[Entry]]:
        done = 0
        for contracts in self._contracts_in_batches():
            texts: dict[int, str] = {}
            built = [e for contract in contracts for e in entries(contract, self.storage, texts)]
            if texts:
                with self.catalogue.writing() as session:
                    _save_texts(session, texts)
            done += len(contracts)
            if progress:
                progress(done, total)
            yield built

    def _contracts_in_batches(self) -> Iterator[list[Contract]]:
        """Every contract with its dossier, ``batch_size`` at a time: memory stays bounded."""
        last = 0
        while True:
            with self.catalogue.reading() as session:
                contracts = session.scalars(
                    select(Contract).where(Contract.id > last).order_by(Contract.id)
                    .limit(self.batch_size).options(*_loading())
                ).all()  # fmt: skip
            if not contracts:
                return
            last = contracts[-1].id
            yield contracts

    def check(self) -> dict[str, list[str]]:
        """Documents missing from the index, stale in it, or there without a document."""
        expected: dict[str, str] = {}
        for contracts in self._contracts_in_batches():
            for contract in contracts:
                expected.update((e.key, e.fingerprint) for e in entries(contract, self.storage))
        indexed = self.engine.fingerprints()
        with self.catalogue.reading() as session:
            pending = sorted(set(session.scalars(select(IndexOutbox.contract_no))))
        both = expected.keys() & indexed.keys()
        return {
            "missing": sorted(set(expected) - set(indexed)),
            "stale": sorted(k for k in both if expected[k] != indexed[k]),
            "orphaned": sorted(set(indexed) - set(expected)),
            "pending": pending,
        }

    def expected_count(self) -> int:
        """How many entries a complete index holds (live documents, one per number)."""
        with self.catalogue.reading() as session:
            return session.scalar(
                select(func.count(func.distinct(Document.number)))
                .join(Contract, Document.contract_id == Contract.id)
                .where(Document.destroyed_at.is_(None),
                       Contract.retention_state.is_(None)
                       | Contract.retention_state.notin_(("destroying", "destroyed")))
            ) or 0  # fmt: skip


def _save_texts(session, texts: dict[int, str]) -> None:
    for doc_id, text in texts.items():
        session.execute(update(Document).where(Document.id == doc_id).values(text=text))
