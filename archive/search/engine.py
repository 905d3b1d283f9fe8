"""The search seam: what callers index (:class:`Entry`), ask (:meth:`Engine.search`) and get.

An engine is derived data (in its own folder, or in its own tables of the catalogue's
PostgreSQL): entries are written in batches (many changes, one commit), a complete index can
be rebuilt and switched to atomically while searches keep answering, and
:meth:`Engine.fingerprints` lets the caller find stale entries. Query parsing, analysis,
paging rules and highlighting live here and in the modules beside it, so every engine
behaves the same; an engine only stores and looks up.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any, Literal

from archive.search import highlight
from archive.search.analysis import VERSION as ANALYSIS_VERSION
from archive.search.documents import day_number
from archive.search.generations import Generations
from archive.search.query import All, Node, parse, positive_matches

log = logging.getLogger(__name__)

FACETS = ("region", "year", "status", "kind", "payment_state")
# What a folder engine's index holds besides the analysis: its fields. Bump it whenever an
# engine's schema changes, so that an index built by older code is rebuilt, never read
# without the new fields. 2: owner and secrecy, for the access rule.
LAYOUT = 2
# In each generation of a folder engine: the analysis version and layout that built it
# (another one reads as empty, so that start-up rebuilds it from the catalogue).
ANALYSIS_FILE = "ANALYSIS"
BUILT_BY = f"{ANALYSIS_VERSION}.{LAYOUT}"
Sort = Literal["relevance", "date"]
# One clause of the access rule (archive.access): (field, the values it may have) pairs, all
# of which must hold. A document is visible when any of a person's clauses holds.
Clause = tuple[tuple[str, frozenset[str]], ...]
# The fields a clause may test: every engine stores them exactly (and so does the catalogue).
VISIBILITY_FIELDS = ("owner", "region", "contract_no", "secrecy")


@dataclass(frozen=True)
class Entry:
    """One filed document as the index sees it; ``key`` (the document number) is unique."""

    key: str
    contract_no: str
    number: str
    kind: str  # sales_contract, amendment, delivery_notice, signed_scan
    title: str
    archival_code: str
    region: str
    year: int
    status: str
    payment_state: str
    owner: str  # the login of whose business it is (the contract's owner)
    secrecy: str  # normal or confidential (密级)
    signed_on: dt.date
    amount_cents: int
    buyer: str
    seller: str
    products: str  # this document's own products: names and models
    text: str  # the document's full text; highlights are cut from it
    fingerprint: str  # opaque: the caller compares it to find stale entries


@dataclass(frozen=True)
class Filters:
    """Exact filters; they narrow the hits and never change a score. Bounds are inclusive."""

    region: str | None = None
    status: str | None = None
    kind: str | None = None
    payment_state: str | None = None
    year: int | None = None
    signed_from: dt.date | None = None
    signed_to: dt.date | None = None
    amount_min: Decimal | None = None  # yuan
    amount_max: Decimal | None = None
    # Who may see what (archive.access.Scope.clauses): None, everything; no clause, nothing.
    visible: tuple[Clause, ...] | None = None

    def terms(self) -> dict[str, str | int]:
        """The field = value filters that are set (an empty string counts as not set)."""
        values: dict[str, str | int | None] = {
            "region": self.region,
            "status": self.status,
            "kind": self.kind,
            "payment_state": self.payment_state,
            "year": None if self.year in (None, "") else int(self.year),
        }
        return {name: value for name, value in values.items() if value not in (None, "")}

    def visibility(self) -> list[list[tuple[str, list[str]]]] | None:
        """The visibility clauses as (field, sorted values) lists; None when unrestricted.

        A clause that names a field with no values can never hold and is left out, so an
        engine never has to express "one of no values"; a clause with no fields holds for
        every document (as in ``Scope.allows``). Raises ValueError for a field no index
        holds: a rule that cannot be applied must not quietly show everything."""
        if self.visible is None:
            return None
        found = []
        for clause in self.visible:
            parts = []
            for name, values in clause:
                if name not in VISIBILITY_FIELDS:
                    raise ValueError(f"a visibility clause cannot test {name!r}")
                parts.append((name, sorted(values)))
            if all(values for _, values in parts):
                found.append(parts)
        return found

    def signed(self) -> tuple[int | None, int | None]:
        """The signing-date bounds as yyyymmdd numbers."""
        return (
            day_number(self.signed_from) if self.signed_from else None,
            day_number(self.signed_to) if self.signed_to else None,
        )

    def cents(self) -> tuple[int | None, int | None]:
        """The amount bounds in whole cents, rounded inwards (100.005 yuan → ≥ 10001)."""
        low, high = self.amount_min, self.amount_max
        return (
            int((Decimal(low) * 100).to_integral_value(ROUND_CEILING)) if low is not None else None,
            int((Decimal(high) * 100).to_integral_value(ROUND_FLOOR)) if high is not None else None,
        )


@dataclass
class SearchResult:
    total: int
    page: int
    per_page: int
    hits: list[dict[str, Any]]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class Batch:
    """Changes collected in a batch, applied and committed once when it ends.

    Collecting first gives every engine the same meaning for any order of calls: a
    deletion drops what was added for that contract earlier in the batch; an add replaces
    an entry with the same key."""

    def __init__(self) -> None:
        self.deleted: set[str] = set()
        self._added: dict[str, dict[str, Entry]] = {}  # contract → key → entry
        self._contract_of: dict[str, str] = {}  # key → contract

    def delete_contract(self, contract_no: str) -> None:
        """Remove every entry of this contract (added before, in this batch or earlier)."""
        self.deleted.add(contract_no)
        for key in self._added.pop(contract_no, {}):
            del self._contract_of[key]

    def add(self, entry: Entry) -> None:
        """Add ``entry``, replacing any entry with the same key."""
        previous = self._contract_of.get(entry.key)
        if previous is not None:
            del self._added[previous][entry.key]
        self._added.setdefault(entry.contract_no, {})[entry.key] = entry
        self._contract_of[entry.key] = entry.contract_no

    @property
    def added(self) -> list[Entry]:
        return [entry for group in self._added.values() for entry in group.values()]

    def __bool__(self) -> bool:
        return bool(self.deleted or self._contract_of)


class Engine(ABC):
    """A full-text index of entries: the seam every caller uses.

    The shared behaviour lives here: batches are collected before an engine applies them,
    queries are parsed, paged, tie-ordered and highlighted the same way whichever engine
    answers. An engine stores and looks up; :class:`FolderEngine` adds the folder
    generations of the embedded engines, the PostgreSQL engine keeps its own tables."""

    # -- what an engine implements ------------------------------------------------------

    @abstractmethod
    def open(self) -> Engine:
        """Open the index, creating an empty one on first use; return ``self``."""

    @abstractmethod
    def close(self) -> None:
        """Release the open index (a later call reopens it)."""

    @abstractmethod
    def rebuild(self, batches: Iterable[Iterable[Entry]]) -> int:
        """Build a complete index from ``batches``, switch to it atomically, drop the old
        one; searches keep answering from the old index meanwhile. Return how many."""

    @abstractmethod
    def _write(self, batch: Batch) -> None:
        """Apply one non-empty batch: its deletions and additions, committed once."""

    @abstractmethod
    def _search(
        self, node: Node, filters: Filters, page: int, per_page: int, sort: Sort
    ) -> tuple[int, list[tuple[float | None, dict[str, Any]]], dict[str, dict[str, int]]]:
        """(total, the page's (score, stored fields), facet counts over all hits)."""

    @abstractmethod
    def _fingerprints(self) -> dict[str, str]: ...

    @abstractmethod
    def _count(self) -> int: ...

    @abstractmethod
    def _ready(self) -> None:
        """Before a read: open if need be, and see what was committed since (here or in
        other processes)."""

    # -- writing ------------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """Collect deletions and additions; on a clean exit apply them with one commit."""
        changes = Batch()
        yield changes
        if not changes:
            return
        self._write(changes)
        log.info(
            "index: %d contract(s) deleted, %d entr(ies) added",
            len(changes.deleted),
            len(changes.added),
        )

    # -- reading ------------------------------------------------------------------------

    def search(
        self,
        query: str = "",
        *,
        filters: Filters | None = None,
        page: int = 1,
        per_page: int = 20,
        sort: Sort = "relevance",
    ) -> SearchResult:
        """Hits of one page, the total, and facet counts over all hits.

        Raises QueryError for a query that cannot be understood, ValueError for a page,
        page size or sort order out of range."""
        if page < 1 or not 1 <= per_page <= 1000:
            raise ValueError("page must be ≥ 1 and per_page between 1 and 1000")
        if sort not in ("relevance", "date"):
            raise ValueError("sort must be 'relevance' or 'date'")
        node = parse(query)
        if isinstance(node, All):
            sort = "date"  # nothing to rank by: browse newest first
        self._ready()
        total, rows, facets = self._search(node, filters or Filters(), page, per_page, sort)
        if sort == "relevance":
            # Equal scores come back in index order, which differs between an index built
            # incrementally and a rebuilt one: order ties by date (newest first), then number.
            rows.sort(key=lambda row: row[1]["key"])
            rows.sort(key=lambda row: row[1]["signed_on"], reverse=True)
            rows.sort(key=lambda row: -round(row[0] or 0.0, 4))
        marks = highlight.patterns(positive_matches(node))
        hits = [_hit(fields, score, marks) for score, fields in rows]
        return SearchResult(total, page, per_page, hits, facets)

    def fingerprints(self) -> dict[str, str]:
        """Key → fingerprint of every entry."""
        self._ready()
        return self._fingerprints()

    def count(self) -> int:
        self._ready()
        return self._count()


class FolderEngine(Engine):
    """An embedded engine in ``path`` (see :mod:`archive.search.generations`).

    Thread-safe for searching; writes and rebuilds take a file lock, so writers in other
    threads and processes wait their turn instead of failing."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.generations = Generations(self.path)
        self._stamp: tuple[int, int, int] | None = None
        self._reopening = threading.Lock()

    # -- what a folder engine implements ------------------------------------------------

    @abstractmethod
    def _create(self, generation: Path) -> None:
        """Create an empty index in ``generation``."""

    @abstractmethod
    def _open(self, generation: Path) -> None:
        """Open the index in ``generation`` for reading, dropping any previous one."""

    @abstractmethod
    def _refresh(self) -> None:
        """Make the next search see commits made since (by this or another process)."""

    @abstractmethod
    def _apply(self, batch: Batch) -> None:
        """Delete, add and commit once, in the current generation."""

    @abstractmethod
    def _build(self, generation: Path, batches: Iterable[Iterable[Entry]]) -> int:
        """Write every entry into a new index in ``generation``; return how many."""

    # -- opening and generations --------------------------------------------------------

    def open(self) -> FolderEngine:
        """Open the current generation, creating an empty index on first use (or when the
        current one has gone missing or was built by another analysis version or layout: the
        caller's consistency check, or start-up, then refills it from the catalogue)."""
        if not self._usable(self.generations.current()):
            with self.generations.lock():
                current = self.generations.current()
                if not self._usable(current):
                    if current is not None:
                        log.warning("index generation %s is missing or was built by another "
                                    "analysis version or layout; starting empty",
                                    current)  # fmt: skip
                    generation = self.generations.new()
                    self._create(generation)
                    _stamp(generation)
                    self.generations.switch(generation)
        self._reopen()
        return self

    @staticmethod
    def _usable(generation: Path | None) -> bool:
        if generation is None or not generation.is_dir():
            return False
        try:
            built_by = (generation / ANALYSIS_FILE).read_text(encoding="ascii").strip()
        except OSError:
            return False  # built before generations were stamped
        return built_by == BUILT_BY

    def _reopen(self) -> None:
        with self._reopening:
            stamp = self.generations.stamp()
            current = self.generations.current()
            if current is None:
                raise FileNotFoundError(f"no search index in {self.path}: open() creates one")
            self._open(current)
            self._stamp = stamp
            log.debug("opened %s", current)

    def _ready(self) -> None:
        """Reopen when another process switched generations; else see its commits."""
        if self._stamp is None:
            self.open()
        elif self.generations.stamp() != self._stamp:
            self._reopen()
        try:
            self._refresh()
        except Exception:
            if self.generations.stamp() == self._stamp:
                raise
            # Switched (and the old generation removed) between the stat and the refresh.
            self._reopen()
            self._refresh()

    # -- writing ------------------------------------------------------------------------

    def _write(self, batch: Batch) -> None:
        if self._stamp is None:
            self.open()
        with self.generations.lock():
            if self._stamp is None or self.generations.stamp() != self._stamp:
                self._reopen()
            self._apply(batch)

    def rebuild(self, batches: Iterable[Iterable[Entry]]) -> int:
        """Build a complete index in a new generation, switch to it, remove the old one.

        Searches (here and in other processes) answer from the old generation until the
        switch. Writers wait for the rebuild, so no change lands in a generation about to
        be dropped."""
        with self.generations.lock():
            self.generations.remove_others()  # a half-built one left by a crash
            generation = self.generations.new()
            try:
                count = self._build(generation, batches)
                _stamp(generation)
            except BaseException:
                self.generations.remove_others()
                raise
            self.generations.switch(generation)
            self._reopen()
            self.generations.remove_others()
        log.info("index rebuilt: %d entries in %s", count, generation.name)
        return count


def _stamp(generation: Path) -> None:
    """Record which analysis version and layout built the index in ``generation``."""
    (generation / ANALYSIS_FILE).write_text(f"{BUILT_BY}\n", encoding="ascii")


def _hit(fields: dict[str, Any], score: float | None, marks: list) -> dict[str, Any]:
    return {
        "contract_no": fields["contract_no"],
        "number": fields["number"],
        "kind": fields["kind"],
        "title": fields["title"],
        "archival_code": fields["archival_code"] or None,
        "region": fields["region"],
        "year": fields["year"],
        "status": fields["status"],
        "payment_state": fields["payment_state"],
        "signed_on": fields["signed_on"],
        "score": None if score is None else round(float(score), 4),
        "highlights": highlight.highlights(fields["text"], marks),
    }


def facet_counts(counts: dict[str, dict[Any, int]]) -> dict[str, dict[str, int]]:
    """Every facet, keys as strings, sorted by key."""
    return {
        name: dict(sorted((str(key), n) for key, n in counts.get(name, {}).items() if n))
        for name in FACETS
    }
