"""The shared engine: PostgreSQL, in tables of the catalogue's own database.

Several ``hetong serve`` machines share one catalogue; this engine lets them share one index
too. Nothing of PostgreSQL's own text search parser is used: every lexeme comes from the
shared analysis (:func:`archive.search.documents.token_fields`), built into a ``tsvector``
literal here with real positions, and every query is compiled from the query tree into a
``tsquery`` literal, always bound as a parameter (user text never reaches SQL or
``to_tsquery``).

One ``tsvector`` per entry (``doc``) holds every field, kept apart by lexeme namespaces:

- ``平精`` ``ck6150``: a body token (Han bigram or unigram, other runs whole) at its position;
  where the analysis emits a boundary (punctuation) a position stays empty, so ``<->`` never
  matches across it;
- ``>精``: at the position of every Han bigram ending with 精, so one Han character at a
  phrase's left edge (``.?共``) is one lexeme; at the right edge (``台.?``) a token starting
  with it is the prefix look-up ``'台':*``;
- ``^ht-2025``: a prefix of a code or number (no position): a prefix query is one lexeme;
- ``b:`` ``s:`` ``p:`` ``c:`` ``n:`` before the three kinds above: the buyer, seller, product,
  contract number and document number fields;
- ``=region=华东``: the exact fields a query may name (``region:华东``).

The whole query tree thus becomes one ``tsquery`` and one GIN look-up. Filters are plain
columns with btree indexes; facets and the total come from one ``GROUPING SETS`` query; date
order from a ``(signed_on, key)`` index; ``ts_rank`` is computed only when relevance is asked.

PostgreSQL clamps positions above 16,383 and keeps at most 256 positions per lexeme, which
would make phrases miss in long documents (scans). An entry beyond either limit (or too
large for one ``tsvector``) is stored with ``overflow`` set and ``doc`` NULL, and its lexemes
in rows of ``overflow_gN``: overlapping windows of each long field, so that any phrase lies
whole in one window. Such entries are matched by a second branch of every query that asks,
clause by clause, whether some window holds the clause. They are rare; the main branch never
looks at them.

Tables, in their own schema (derived data, outside the catalogue's migrations)::

    hetong_search.state          one row: the current generation, the analysis version
    hetong_search.entries_gN     one row per entry
    hetong_search.overflow_gN    windows of the entries that do not fit one tsvector

A rebuild locks the state row, COPYs every entry into new tables without indexes, builds the
indexes, points the state row at them and commits: one atomic switch, seen by every process
at its next read. Writers wait for a rebuild (they share-lock the state row), so no change
lands in tables about to be dropped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine as Database
from sqlalchemy.engine import make_url

from archive.search.analysis import BOUNDARY, HAN
from archive.search.analysis import VERSION as ANALYSIS_VERSION
from archive.search.documents import TEXT_FIELDS, match_field, rank_words, token_fields
from archive.search.engine import (
    FACETS,
    Batch,
    Engine,
    Entry,
    Filters,
    Sort,
    facet_counts,
)
from archive.search.query import (
    EXACT_FIELDS,
    MAX_LENGTH,
    All,
    And,
    Match,
    Node,
    Not,
    Or,
    Prefix,
    QueryTooLarge,
    Slot,
    plan,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

SCHEMA = "hetong_search"
# Bump when the tables or the lexeme encoding change: every index is rebuilt (2: the owner
# and secrecy columns of the access rule; tables of layout 1 read as empty until then).
LAYOUT = 2
MAX_POSITION = 16383  # PostgreSQL clamps larger positions to this one
MAX_POSITIONS = 256  # and silently drops further positions of a lexeme
MAX_PART_BYTES = 512 * 1024  # a tsvector may not exceed 1 MB; stay well below
# Windows of a long field repeat their last OVERLAP positions: more than any phrase spans
# (a query has at most MAX_LENGTH characters, one position each at most), fewer than the
# shortest window (cut at MAX_POSITIONS occurrences of a lexeme), so windows advance.
OVERLAP = 224
assert MAX_LENGTH < OVERLAP < MAX_POSITIONS
RANK_WEIGHT = 2.0  # whole jieba words in names, against the match itself (cf. RANK_BOOST)
# Advisory locks of this engine: the two-integer key space (apart from the catalogue's
# one-bigint locks), this class, then 0 for creating tables or a contract's hash.
LOCK_CLASS = 0x48545331  # "HTS1"
RETRIES = 5
# A search never holds a connection (and a web worker) longer than this: the query limits
# keep every search far below it, and this is what stops the one they did not foresee.
DEADLINE_MS = 5_000
# Ranking reads each hit's tsvector (5–10 µs a hit): past this many hits, only about the
# newest this many are ranked (older ones follow by date). None ranks all of them.
RANK_LIMIT = 5_000
# A date-ordered page walks the date index only when hits are at least this share of all
# entries and the page ends within WALK_WINDOW hits; otherwise the hits are sorted.
WALK_SHARE = 0.5
WALK_WINDOW = 1000
# Past this many values, a visibility field (a clerk's thousands of granted contracts) is
# tested against a hashed subquery, not ``= ANY(array)``: the planner estimates an array
# value by value (45 ms to plan for 5,000 numbers), and a search plans its branches twice.
MANY_VALUES = 100

NAMESPACE = {
    "body": "",
    "buyer": "b:",
    "seller": "s:",
    "product": "p:",
    "contract_no": "c:",
    "number": "n:",
}
END = ">"  # ns + END + char: a Han bigram ending with char, at the bigram's position
PREFIX = "^"  # ns + PREFIX + prefix: a prefix of a code or number

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,40}")
_GENERATION = re.compile(r"(entries|overflow)_g(\d+)")

# A hit's stored fields; then an entry row: the order of COPY and of INSERT.
_HIT_COLUMNS = ("key", "contract_no", "number", "kind", "title", "archival_code", "region",
                "year", "status", "payment_state", "signed_on", "text")  # fmt: skip
_COLUMNS = (*_HIT_COLUMNS[:-1], "amount_cents", "fingerprint", "owner", "secrecy", "overflow",
            "words", "doc", "text")  # fmt: skip
_FACET_MASKS = {  # GROUPING(region, kind, year, status, payment_state) of each set
    0b01111: "region",
    0b10111: "kind",
    0b11011: "year",
    0b11101: "status",
    0b11110: "payment_state",
}
_FACET_COLUMNS = ("region", "kind", "year", "status", "payment_state")
assert set(_FACET_COLUMNS) == set(FACETS)


class StaleIndexError(RuntimeError):
    """The tables were built by another analysis version: rebuild the index."""


# -- lexemes --------------------------------------------------------------------------------


def bindable(text: str) -> str:
    """Text PostgreSQL accepts: NUL cannot be sent at all, and no stored value holds one,
    so a value with NUL keeps matching nothing."""
    return text.replace("\x00", "\ufffd")


def quote(lexeme: str) -> str:
    """A lexeme as a quoted tsvector/tsquery item: any character is safe inside."""
    return "'" + bindable(lexeme).replace("\\", "\\\\").replace("'", "''") + "'"


def _exact(field: str, value: str | int) -> str:
    return f"={field}={value}"


Lexemes = dict[str, list[int]]
_HAN_CHARS = frozenset(
    chr(code)
    for low, high in re.findall(r"(.)-(.)", HAN)
    for code in range(ord(low), ord(high) + 1)
)
_POSITIONS = [str(n) for n in range(1, MAX_POSITION + 1)]  # a look-up beats str() here
_UNSAFE = ("'", "\\", "\x00")  # what a lexeme must not hold unquoted


def _stream(tokens: str, ns: str, safe: bool) -> str | None:
    """A field's tokens as a tsvector literal: each at its position (an empty position at
    each boundary), each Han bigram's end marker beside it. None when the field is beyond
    PostgreSQL's limits for positions. ``safe`` when no token holds a quote, a backslash
    or NUL (the analysis never makes one): then they need no escaping."""
    split = tokens.split()
    if len(split) > MAX_POSITION:
        return None
    found: defaultdict[str, list[str]] = defaultdict(list)
    han = _HAN_CHARS
    end = ns + END
    # The hot loop of indexing: one copy for the body (no namespace to prepend).
    if ns:
        for position, token in zip(_POSITIONS, split, strict=False):
            if token == BOUNDARY:
                continue  # the gap: no phrase spans punctuation
            found[ns + token].append(position)
            if len(token) == 2 and token[0] in han:
                found[end + token[1]].append(position)
    else:
        for position, token in zip(_POSITIONS, split, strict=False):
            if token == BOUNDARY:
                continue
            found[token].append(position)
            if len(token) == 2 and token[0] in han:
                found[end + token[1]].append(position)
    if max(map(len, found.values()), default=0) > MAX_POSITIONS:
        return None
    if safe:
        return " ".join([f"'{lexeme}':{','.join(p)}" for lexeme, p in found.items()])
    return " ".join([f"{quote(lexeme)}:{','.join(p)}" for lexeme, p in found.items()])


@lru_cache(maxsize=16384)
def _name(tokens: str, ns: str, safe: bool) -> str | None:
    """:func:`_stream` of a short field: names and numbers recur across documents."""
    return _stream(tokens, ns, safe)


def _prefixes(prefixes: str, ns: str, safe: bool) -> str:
    """The space-separated prefixes of a field as bare lexemes (no position)."""
    if not prefixes:
        return ""
    lead = ns + PREFIX
    if safe:
        return f"'{lead}" + prefixes.replace(" ", f"' '{lead}") + "'"
    return " ".join(quote(lead + prefix) for prefix in prefixes.split())


def _literal(lexemes: Lexemes) -> str:
    """A tsvector literal of lexemes at their (integer) positions."""
    return " ".join(f"{quote(lexeme)}:{','.join(map(str, p))}" for lexeme, p in lexemes.items())


def _windows(tokens: str, ns: str) -> list[Lexemes]:
    """A long field as overlapping windows, each within PostgreSQL's limits; a phrase of
    up to OVERLAP positions lies whole in at least one of them."""
    items: list[tuple[int, tuple[str, ...]]] = []
    for position, token in enumerate(tokens.split(), start=1):
        if token != BOUNDARY:
            bigram = len(token) == 2 and token[0] in _HAN_CHARS
            items.append((position, (ns + token, ns + END + token[1]) if bigram else (ns + token,)))
    windows: list[Lexemes] = []
    start = 0
    while start < len(items):
        first = items[start][0]
        counts: Counter[str] = Counter()
        size = 0
        stop = start
        while stop < len(items):
            position, lexemes = items[stop]
            if position - first + 1 > MAX_POSITION or size > MAX_PART_BYTES:
                break
            if any(counts[lexeme] >= MAX_POSITIONS for lexeme in lexemes):
                break
            for lexeme in lexemes:
                size += 7 if counts[lexeme] else 3 * len(lexeme) + 10
                counts[lexeme] += 1
            stop += 1
        window: Lexemes = {}
        for position, lexemes in items[start:stop]:
            for lexeme in lexemes:
                window.setdefault(lexeme, []).append(position - first + 1)
        windows.append(window)
        if stop == len(items):
            break
        last = items[stop - 1][0]
        following = stop
        while following > start + 1 and items[following - 1][0] > last - OVERLAP:
            following -= 1
        start = following
    return windows


def _pack(units: list[str], bare: list[str]) -> list[str]:
    """Tsvector literals of at most MAX_PART_BYTES (counting three bytes a character, more
    than any lexeme takes stored): whole units (fields, windows), then bare lexemes."""
    parts: list[list[str]] = [[]]
    size = 0
    for item in [*units, *map(quote, bare)]:
        if parts[-1] and size + 3 * len(item) > MAX_PART_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(item)
        size += 3 * len(item) + 1
    return [" ".join(part) for part in parts if part]


def vectors(entry: Entry) -> tuple[str | None, list[str], str]:
    """(``doc``, or None when the entry needs windows; the windows' tsvectors; ``words``)."""
    fields = token_fields(entry)
    safe = not any(mark in value for value in fields.values() for mark in _UNSAFE)
    exact = " ".join(
        quote(_exact(name, value))
        for name, value in (
            ("region", entry.region),
            ("status", entry.status),
            ("kind", entry.kind),
            ("payment_state", entry.payment_state),
            ("year", int(entry.year)),
        )
    )
    streams = []  # (tokens, namespace, literal or None)
    for name in TEXT_FIELDS:
        ns, tokens = NAMESPACE[name], fields[f"t_{name}"]
        streams.append((tokens, ns, (_stream if name == "body" else _name)(tokens, ns, safe)))
    prefixes = [_prefixes(fields[f"p_{name}"], NAMESPACE[name], safe) for name in TEXT_FIELDS]
    words: dict[str, list[str]] = {}
    # Past position 16,383 words are left out: ranking only, and names are short.
    for position, word in zip(_POSITIONS, fields["w_names"].split(), strict=False):
        words.setdefault(word, []).append(position)
    wrap = (lambda word: f"'{word}'") if safe else quote
    words_literal = " ".join(
        f"{wrap(word)}:{','.join(p[:MAX_POSITIONS])}" for word, p in words.items()
    )
    if all(literal is not None for _, _, literal in streams):
        doc = " ".join(part for part in (*(s[2] for s in streams), *prefixes, exact) if part)
        if 3 * len(doc) <= MAX_PART_BYTES:
            return doc, [], words_literal
    units: list[str] = [exact]
    for tokens, ns, literal in streams:
        if literal is not None and 3 * len(literal) <= MAX_PART_BYTES:
            units.append(literal)
        else:
            units.extend(_literal(window) for window in _windows(tokens, ns))
    bare = [
        NAMESPACE[name] + PREFIX + prefix
        for name in TEXT_FIELDS
        for prefix in fields[f"p_{name}"].split()
    ]
    return None, _pack([unit for unit in units if unit], bare), words_literal


_PROBE = Entry(
    key="HT-202611-0001-BC01",
    contract_no="HT-202611-0001",
    number="HT-202611-0001-BC01",
    kind="amendment",
    title="补充协议 HT-202611-0001-BC01",
    archival_code="HT·2026·华东·0001-02",
    region="华东",
    year=2026,
    status="effective",
    payment_state="partially_paid",
    owner="clerk",
    secrecy="normal",
    signed_on=dt.date(2026, 11, 3),
    amount_cents=38_250_500,
    buyer="杭州临平精工机械有限公司",
    seller="上海申远机电设备有限公司",
    products="数控车床 ＣＫ６１５０ 刀具套装 T-200",
    text="检测水平精，精工机械；共20台已验收。\nGB/T 25659.1-2010 电话 0571-86660000 ①㈱ ﬁ Ⅻ"
    "\n单价 1,001.10 元，规格 4 × 0.5",
    fingerprint="",
)


@lru_cache(maxsize=1)
def analysis_version() -> str:
    """Names what the analysis makes of a probe entry, and the layout of the tables: an
    index built under another version holds other lexemes and must be rebuilt."""
    doc, parts, words = vectors(_PROBE)
    # Sorted: prefixes come from sets, whose order changes with each process's hash seed.
    items = sorted(" ".join([doc or "", *parts, words]).split())
    digest = hashlib.sha256("\n".join(items).encode()).hexdigest()
    return f"{LAYOUT}.{ANALYSIS_VERSION}-{digest[:16]}"


def row(entry: Entry) -> tuple[tuple[Any, ...], list[str]]:
    """An entry as a row of ``entries_gN`` (in :data:`_COLUMNS` order), and its windows."""
    doc, parts, words = vectors(entry)
    values = (
        entry.key,
        entry.contract_no,
        entry.number,
        entry.kind,
        entry.title,
        entry.archival_code,
        entry.region,
        int(entry.year),
        entry.status,
        entry.payment_state,
        entry.signed_on,
        int(entry.amount_cents),
        entry.fingerprint,
        entry.owner,
        entry.secrecy,
        doc is None,
        words,
        doc,
        entry.text,
    )
    return values, parts


# -- compiling the query tree ---------------------------------------------------------------


def _slot(ns: str, slot: Slot) -> str:
    if not slot.pattern:
        return quote(ns + slot.text)
    options = []
    if slot.starts:  # the unigram itself, or a bigram starting with the character
        options.append(f"{quote(ns + slot.char)}:*")
    elif slot.ends:
        options.append(quote(ns + slot.char))
    if slot.ends:  # a bigram ending with it
        options.append(quote(ns + END + slot.char))
    return options[0] if len(options) == 1 else f"({' | '.join(options)})"


def _phrase(ns: str, slots: tuple[Slot, ...]) -> str:
    """Slots at consecutive positions; a boundary slot is an empty position in between."""
    out = ""
    distance = 1
    for slot in slots:
        if slot.text == BOUNDARY and not slot.pattern:
            distance += 1
            continue
        term = _slot(ns, slot)
        operator = "<->" if distance == 1 else f"<{distance}>"
        out = f"{out} {operator} {term}" if out else term
        distance = 1
    return f"({out})"


def _clauses(match: Match) -> list[str]:
    """The tsquery of each clause a text match needs (all of them must hold)."""
    ns = NAMESPACE[match_field(match)]
    return [
        quote(ns + PREFIX + clause.text) if isinstance(clause, Prefix) else _phrase(ns, clause)
        for clause in plan(match)
    ]


def compile_query(node: Node) -> str:
    """The query tree as one tsquery literal over ``doc``."""
    if isinstance(node, Match):
        if node.field in EXACT_FIELDS:
            return quote(_exact(node.field, node.text))
        found = _clauses(node)
        return found[0] if len(found) == 1 else f"({' & '.join(found)})"
    if isinstance(node, Not):
        return f"!{compile_query(node.child)}"
    if isinstance(node, And | Or):
        joiner = " & " if isinstance(node, And) else " | "
        return f"({joiner.join(compile_query(child) for child in node.children)})"
    raise TypeError(f"nothing to compile for {node!r}")


def compile_overflow(node: Node, table: str, params: dict[str, Any]) -> str:
    """The query tree as SQL over an entry's windows: each clause must hold in one window
    (a phrase never spans two), the tree combines clauses across the whole entry."""
    if isinstance(node, Match):
        if node.field in EXACT_FIELDS:
            name = f"o{len(params)}"
            params[name] = int(node.text) if node.field == "year" else bindable(node.text)
            return f"e.{node.field} = %({name})s"
        tests = []
        for clause in _clauses(node):
            name = f"o{len(params)}"
            params[name] = clause
            tests.append(
                f"EXISTS (SELECT 1 FROM {table} o WHERE o.key = e.key "
                f"AND o.doc @@ CAST(%({name})s AS tsquery))"
            )
        return f"({' AND '.join(tests)})"
    if isinstance(node, Not):
        return f"NOT {compile_overflow(node.child, table, params)}"
    if isinstance(node, And | Or):
        joiner = " AND " if isinstance(node, And) else " OR "
        return f"({joiner.join(compile_overflow(c, table, params) for c in node.children)})"
    raise TypeError(f"nothing to compile for {node!r}")


def _filters(filters: Filters, params: dict[str, Any]) -> str:
    found = []
    for name, value in filters.terms().items():
        params[f"f_{name}"] = bindable(value) if isinstance(value, str) else value
        found.append(f"e.{name} = %(f_{name})s")
    if filters.signed_from is not None:
        params["f_from"] = filters.signed_from
        found.append("e.signed_on >= %(f_from)s")
    if filters.signed_to is not None:
        params["f_to"] = filters.signed_to
        found.append("e.signed_on <= %(f_to)s")
    low, high = filters.cents()
    if low is not None:
        params["f_low"] = low
        found.append("e.amount_cents >= %(f_low)s")
    if high is not None:
        params["f_high"] = high
        found.append("e.amount_cents <= %(f_high)s")
    visible = _visible(filters, params)
    if visible is not None:
        found.append(visible)
    return " AND ".join(found) or "TRUE"


def _visible(filters: Filters, params: dict[str, Any]) -> str | None:
    """The access rule: any clause, each of whose fields holds one of its values. Each
    field's values are one array parameter, so no value ever becomes SQL."""
    clauses = filters.visibility()
    if clauses is None:
        return None
    either = []
    for n, clause in enumerate(clauses):
        parts = []
        for name, values in clause:
            # The fields are the seam's (Filters.visibility checks them), never user text.
            param = f"v{n}_{name}"
            params[param] = [bindable(value) for value in values]
            if len(values) <= MANY_VALUES:
                parts.append(f"e.{name} = ANY(%({param})s)")
            else:
                parts.append(f"e.{name} IN (SELECT unnest(CAST(%({param})s AS text[])))")
        either.append(f"({' AND '.join(parts) or 'TRUE'})")
    return f"({' OR '.join(either) or 'FALSE'})"


# -- the engine -----------------------------------------------------------------------------


def _lock_id(contract_no: str) -> int:
    return zlib.crc32(contract_no.encode()) - 2**31  # an int4


def _database_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername != "postgresql+psycopg":
        raise ValueError(f"the postgresql search engine needs a PostgreSQL URL, not {url!r}")
    return parsed.render_as_string(hide_password=False)


class PostgresEngine(Engine):
    """An index in its own tables of a PostgreSQL database, shared by every process that
    opens the same database; thread-safe (a connection pool per engine object)."""

    def __init__(
        self,
        url: str,
        *,
        schema: str = SCHEMA,
        pool_size: int = 5,
        build_memory: str | None = None,
        rank_limit: int | None = RANK_LIMIT,
    ) -> None:
        if not _IDENTIFIER.fullmatch(schema):
            raise ValueError(f"not a plain schema name: {schema!r}")
        self.url = _database_url(url)
        self.schema = schema
        self.pool_size = pool_size
        self.build_memory = build_memory
        self.rank_limit = rank_limit
        self._database: Database | None = None
        self._opened = False
        self._lock = threading.Lock()
        self._warned: set[tuple[int, str]] = set()

    # -- connections --------------------------------------------------------------------

    def _db(self) -> Database:
        with self._lock:
            if self._database is None:
                self._database = create_engine(
                    self.url,
                    pool_size=self.pool_size,
                    max_overflow=self.pool_size,
                    pool_pre_ping=True,
                    # Transactions are explicit (conn.transaction()); outside them, none.
                    isolation_level="AUTOCOMMIT",
                    # A tsquery's selectivity varies enormously: plan each query for its
                    # own parameters, never from a cached generic plan.
                    connect_args={"prepare_threshold": None},
                )
            return self._database

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        raw = self._db().raw_connection()
        try:
            conn = raw.driver_connection
            assert isinstance(conn, psycopg.Connection) and conn.autocommit
            yield conn
        finally:
            raw.close()

    def _table(self, generation: int) -> str:
        return f"{self.schema}.entries_g{generation}"

    def _overflow(self, generation: int) -> str:
        return f"{self.schema}.overflow_g{generation}"

    # -- opening ------------------------------------------------------------------------

    def open(self) -> PostgresEngine:
        """Create the schema, the state row and empty tables when missing (or when the
        current tables have gone: the caller's consistency check then refills them)."""
        version = analysis_version()
        created = False
        with self._connection() as conn, conn.cursor() as cur:
            if not self._usable(cur):
                with conn.transaction():
                    # Creating tables races with other processes: one at a time.
                    cur.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_CLASS,))
                    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
                    cur.execute(
                        f"CREATE TABLE IF NOT EXISTS {self.schema}.state ("
                        " id integer PRIMARY KEY CHECK (id = 1),"
                        " generation integer NOT NULL,"
                        " analysis text NOT NULL,"
                        " switched_at timestamptz NOT NULL DEFAULT now())"
                    )
                    cur.execute(f"SELECT generation FROM {self.schema}.state FOR UPDATE")
                    found = cur.fetchone()
                    if found is None or not self._exists(cur, found[0]):
                        if found is not None:
                            log.warning("search tables of generation %d are missing", found[0])
                        generation = self._next_generation(cur, found[0] if found else 0)
                        self._create_tables(cur, generation)
                        self._create_indexes(cur, generation)
                        cur.execute(
                            f"INSERT INTO {self.schema}.state (id, generation, analysis)"
                            " VALUES (1, %s, %s) ON CONFLICT (id) DO UPDATE SET"
                            " generation = EXCLUDED.generation, analysis = EXCLUDED.analysis,"
                            " switched_at = now()",
                            (generation, version),
                        )
                        log.info("search tables created: generation %d", generation)
                        created = True
            if created:
                self._drop_others(conn)  # what is left of a lost generation
        self._opened = True
        return self

    def _usable(self, cur: psycopg.Cursor) -> bool:
        cur.execute("SELECT to_regclass(%s)", (f"{self.schema}.state",))
        if cur.fetchone()[0] is None:
            return False
        cur.execute(f"SELECT generation FROM {self.schema}.state WHERE id = 1")
        found = cur.fetchone()
        return found is not None and self._exists(cur, found[0])

    def _exists(self, cur: psycopg.Cursor, generation: int) -> bool:
        cur.execute(
            "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL",
            (self._table(generation), self._overflow(generation)),
        )
        return bool(cur.fetchone()[0])

    def _generations(self, cur: psycopg.Cursor) -> set[int]:
        """The generations that have tables (the current one, others not yet dropped)."""
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (self.schema,))
        found = (_GENERATION.fullmatch(name) for (name,) in cur.fetchall())
        return {int(m.group(2)) for m in found if m}

    def _next_generation(self, cur: psycopg.Cursor, current: int) -> int:
        return max({current, *self._generations(cur)}) + 1

    def _create_tables(self, cur: psycopg.Cursor, generation: int) -> None:
        cur.execute(
            f"CREATE TABLE {self._table(generation)} ("
            ' key text COLLATE "C" NOT NULL,'  # byte order: as every engine sorts keys
            ' contract_no text COLLATE "C" NOT NULL,'
            " number text NOT NULL,"
            " kind text NOT NULL,"
            " title text NOT NULL,"
            " archival_code text NOT NULL,"
            " region text NOT NULL,"
            " year integer NOT NULL,"
            " status text NOT NULL,"
            " payment_state text NOT NULL,"
            " signed_on date NOT NULL,"
            " amount_cents bigint NOT NULL,"
            " fingerprint text NOT NULL,"
            " owner text NOT NULL,"
            " secrecy text NOT NULL,"
            " overflow boolean NOT NULL,"
            " words tsvector NOT NULL,"
            " doc tsvector,"
            " text text NOT NULL)"
            # Every wide value (doc, text, words) out of line: the rows stay narrow, so
            # facets and counts over many hits read a few pages, not the documents.
            " WITH (toast_tuple_target = 128)"
        )
        # But words inline: ranking reads them for every hit.
        cur.execute(f"ALTER TABLE {self._table(generation)} ALTER words SET STORAGE MAIN")
        cur.execute(
            f"CREATE TABLE {self._overflow(generation)} ("
            ' key text COLLATE "C" NOT NULL,'
            " part integer NOT NULL,"
            " doc tsvector NOT NULL)"
        )

    def _create_indexes(self, cur: psycopg.Cursor, generation: int) -> None:
        table, name = self._table(generation), f"entries_g{generation}"
        cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name}_pkey PRIMARY KEY (key)")
        cur.execute(f"CREATE INDEX {name}_doc ON {table} USING gin (doc)")
        cur.execute(f"CREATE INDEX {name}_contract ON {table} (contract_no)")
        cur.execute(f"CREATE INDEX {name}_date ON {table} (signed_on DESC, key)")
        for column in ("region", "status", "kind", "payment_state", "year", "amount_cents",
                       "owner"):  # fmt: skip
            cur.execute(f"CREATE INDEX {name}_{column} ON {table} ({column})")
        cur.execute(f"CREATE INDEX {name}_overflow ON {table} (key) WHERE overflow")
        cur.execute(
            f"ALTER TABLE {self._overflow(generation)} ADD CONSTRAINT"
            f" overflow_g{generation}_pkey PRIMARY KEY (key, part)"
        )

    def close(self) -> None:
        with self._lock:
            database, self._database = self._database, None
            self._opened = False
        if database is not None:
            database.dispose()

    def _ready(self) -> None:
        if not self._opened:
            self.open()

    # -- the state row ------------------------------------------------------------------

    def _current(self, cur: psycopg.Cursor, lock: str = "") -> int | None:
        """The current generation; None when it was built by another analysis version."""
        cur.execute(f"SELECT generation, analysis FROM {self.schema}.state WHERE id = 1 {lock}")
        found = cur.fetchone()
        if found is None:
            raise pg_errors.UndefinedTable("no search state row")  # recreated by open()
        generation, version = found
        if version != analysis_version():
            if (generation, version) not in self._warned:
                self._warned.add((generation, version))
                log.warning(
                    "search tables of generation %d were built by analysis %s, this is %s: "
                    "the index reads as empty until it is rebuilt",
                    generation,
                    version,
                    analysis_version(),
                )
            return None
        return generation

    def _read(self, work: Callable[[psycopg.Cursor, int], T], empty: T) -> T:
        """Run ``work`` on the current generation in one read-only snapshot; retried when
        a rebuild dropped the tables between reading the state row and using them."""
        for attempt in range(1, RETRIES + 1):
            self._ready()
            try:
                with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    cur.execute(f"SET LOCAL statement_timeout = {int(DEADLINE_MS)}")
                    generation = self._current(cur)
                    return empty if generation is None else work(cur, generation)
            except pg_errors.QueryCanceled:
                log.warning("a search passed its deadline of %d ms", DEADLINE_MS)
                raise QueryTooLarge(
                    f"检索超过 {DEADLINE_MS / 1000:g} 秒仍未完成：请用更具体的词或加上筛选条件。"
                ) from None
            except pg_errors.UndefinedTable:
                if attempt == RETRIES:
                    raise
                log.info("search tables switched during a read; reading again")
                self._opened = False  # recreates what is missing, if anything is
        raise AssertionError("unreachable")

    # -- writing ------------------------------------------------------------------------

    def _write(self, batch: Batch) -> None:
        self._ready()
        # Analysis before the transaction: row locks are held for the writes only.
        added = sorted(batch.added, key=lambda entry: entry.key)
        rows = [row(entry) for entry in added]
        locks = sorted({_lock_id(c) for c in batch.deleted | {e.contract_no for e in added}})
        for attempt in range(1, RETRIES + 1):
            try:
                with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
                    self._apply(cur, batch, rows, locks)
                return
            except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure) as exc:
                if attempt == RETRIES:
                    raise
                log.warning("search batch: %s; trying again", exc.sqlstate)
                time.sleep(0.05 * attempt)
            except pg_errors.UndefinedTable:
                if attempt == RETRIES:
                    raise
                self._opened = False
                self._ready()

    def _apply(
        self,
        cur: psycopg.Cursor,
        batch: Batch,
        rows: list[tuple[tuple[Any, ...], list[str]]],
        locks: list[int],
    ) -> None:
        # Share-lock the state row: a rebuild (which locks it for update) waits for this
        # batch, and this batch waits for a rebuild, then writes to the new tables.
        generation = self._current(cur, "FOR KEY SHARE")
        if generation is None:
            raise StaleIndexError(
                "the search tables were built by another analysis version; "
                "rebuild the index (hetong reindex)"
            )
        table, overflow = self._table(generation), self._overflow(generation)
        # Writers of the same contracts take turns, always locking in the same order, so
        # two batches never deadlock on each other's rows.
        cur.execute(
            "SELECT count(pg_advisory_xact_lock(%s, id)) FROM unnest(%s::int4[]) AS id",
            (LOCK_CLASS, locks),
        )
        gone: list[str] = []
        if batch.deleted:
            cur.execute(
                f"DELETE FROM {table} WHERE contract_no = ANY(%s) RETURNING key",
                (sorted(batch.deleted),),
            )
            gone = [key for (key,) in cur.fetchall()]
        keys = [values[0] for values, _ in rows]
        if gone or keys:
            cur.execute(f"DELETE FROM {overflow} WHERE key = ANY(%s)", (sorted({*gone, *keys}),))
        if rows:
            names = ", ".join(_COLUMNS)
            placeholders = ", ".join(
                "CAST(%s AS tsvector)" if c in ("words", "doc") else "%s" for c in _COLUMNS
            )
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS if c != "key")
            cur.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({placeholders})"
                f" ON CONFLICT (key) DO UPDATE SET {updates}",
                [values for values, _ in rows],
            )
            parts = [(v[0], n, p) for v, ps in rows for n, p in enumerate(ps)]
            if parts:
                cur.executemany(
                    f"INSERT INTO {overflow} (key, part, doc)"
                    " VALUES (%s, %s, CAST(%s AS tsvector))",
                    parts,
                )

    def rebuild(self, batches: Iterable[Iterable[Entry]]) -> int:
        """COPY every entry into new tables, index them, switch the state row to them in
        the same transaction, then drop the old tables.

        Searches (here and in other processes) answer from the old tables until the commit.
        Writers wait for it, so no change lands in tables about to be dropped."""
        self._ready()
        with self._connection() as conn:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(f"SELECT generation FROM {self.schema}.state WHERE id = 1 FOR UPDATE")
                found = cur.fetchone()
                generation = self._next_generation(cur, found[0] if found else 0)
                if self.build_memory:  # the default (64MB) built smaller GIN indexes here
                    memory = (self.build_memory,)
                    cur.execute("SELECT set_config('maintenance_work_mem', %s, true)", memory)
                self._create_tables(cur, generation)
                count, parts = self._copy(cur, generation, batches)
                self._create_indexes(cur, generation)
                cur.execute(f"ANALYZE {self._table(generation)}")
                if parts:
                    cur.execute(f"ANALYZE {self._overflow(generation)}")
                cur.execute(
                    f"INSERT INTO {self.schema}.state (id, generation, analysis)"
                    " VALUES (1, %s, %s) ON CONFLICT (id) DO UPDATE SET"
                    " generation = EXCLUDED.generation, analysis = EXCLUDED.analysis,"
                    " switched_at = now()",
                    (generation, analysis_version()),
                )
            log.info("index rebuilt: %d entries in generation %d", count, generation)
            self._drop_others(conn)
        return count

    def _copy(
        self, cur: psycopg.Cursor, generation: int, batches: Iterable[Iterable[Entry]]
    ) -> tuple[int, int]:
        """COPY the entries (a key seen twice: the first one is kept); return how many
        entries and how many windows."""
        seen: set[str] = set()
        windows: list[tuple[str, int, str]] = []
        with cur.copy(f"COPY {self._table(generation)} ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for entries in batches:
                for entry in entries:
                    if entry.key in seen:
                        log.warning("rebuild: %s given twice; the first one is kept", entry.key)
                        continue
                    seen.add(entry.key)
                    values, parts = row(entry)
                    copy.write_row(values)
                    windows.extend((entry.key, n, part) for n, part in enumerate(parts))
        if windows:
            with cur.copy(f"COPY {self._overflow(generation)} (key, part, doc) FROM STDIN") as copy:
                for window in windows:
                    copy.write_row(window)
        return len(seen), len(windows)

    def _drop_others(self, conn: psycopg.Connection) -> None:
        """Drop every generation but the current one; one still being read waits for its
        readers, a few seconds at most, or is left for the next rebuild."""
        with conn.cursor() as cur:
            cur.execute(f"SELECT generation FROM {self.schema}.state WHERE id = 1")
            current = cur.fetchone()[0]
            for generation in sorted(self._generations(cur) - {current}):
                try:
                    with conn.transaction():
                        cur.execute("SET LOCAL lock_timeout = '5s'")
                        cur.execute(f"DROP TABLE IF EXISTS {self._table(generation)}")
                        cur.execute(f"DROP TABLE IF EXISTS {self._overflow(generation)}")
                    log.info("search tables of generation %d dropped", generation)
                except pg_errors.LockNotAvailable:
                    log.warning("search tables of generation %d are still read; left", generation)

    # -- reading ------------------------------------------------------------------------

    def _search(
        self, node: Node, filters: Filters, page: int, per_page: int, sort: Sort
    ) -> tuple[int, list[tuple[float | None, dict[str, Any]]], dict[str, dict[str, int]]]:
        def work(cur: psycopg.Cursor, generation: int) -> tuple[int, list, dict]:
            return self._query(cur, generation, node, filters, page, per_page, sort)

        return self._read(work, (0, [], facet_counts({})))

    def _query(
        self,
        cur: psycopg.Cursor,
        generation: int,
        node: Node,
        filters: Filters,
        page: int,
        per_page: int,
        sort: Sort,
    ) -> tuple[int, list[tuple[float | None, dict[str, Any]]], dict[str, dict[str, int]]]:
        table, overflow = self._table(generation), self._overflow(generation)
        params: dict[str, Any] = {}
        where = _filters(filters, params)
        # The FROM … WHERE of each branch: entries that fit one tsvector, entries in windows.
        if isinstance(node, All):
            branches = [f"{table} e WHERE {where}"]
        else:
            params["q"] = compile_query(node)
            slow = compile_overflow(node, overflow, params)
            branches = [
                f"{table} e WHERE e.doc @@ CAST(%(q)s AS tsquery) AND {where}",
                f"{table} e WHERE e.overflow AND {slow} AND {where}",
            ]
            # A broad query matches most rows: reading each row's tsvector (a seq scan)
            # costs far more than the GIN bitmap the planner thinks dearer.
            cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL jit = off")  # compiling costs more than these queries take
        total, counts = self._facets(cur, branches, params)
        if not total:
            return 0, [], facet_counts(counts)
        params["limit"], params["offset"] = per_page, (page - 1) * per_page
        params["window"] = page * per_page  # what each branch must offer for this page
        if not isinstance(node, All) and not (
            sort == "date" and self._walk(cur, table, total, params["window"])
        ):
            # Sort the hits the GIN index found rather than walk the date index testing
            # each row's tsvector: the planner guesses a rare term's frequency, and terms
            # cluster in time (every HT-2025… number is of 2025: walking from the newest
            # reads all of 2026 first).
            cur.execute("SET LOCAL enable_indexscan = off")
        if sort == "date" or isinstance(node, All):
            found = self._newest(cur, branches, params)
        else:
            found = self._ranked(cur, node, branches, params, counts["year"])
        rows = []
        for values in found:
            fields = dict(zip(_HIT_COLUMNS, values[:-1], strict=True))
            fields["signed_on"] = fields["signed_on"].isoformat()
            rows.append((None if sort == "date" else values[-1], fields))
        return total, rows, facet_counts(counts)

    @staticmethod
    def _walk(cur: psycopg.Cursor, table: str, total: int, window: int) -> bool:
        """Whether walking the date index, testing each row, is the way to a date-ordered
        page: only when most rows are hits, so that the walk soon finds enough of them."""
        if window > WALK_WINDOW:
            return False
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = CAST(%s AS regclass)", (table,))
        rows = float(cur.fetchone()[0])  # -1 until the table is first analysed: sort then
        return rows > 0 and total >= WALK_SHARE * rows

    @staticmethod
    def _facets(
        cur: psycopg.Cursor, branches: list[str], params: dict[str, Any]
    ) -> tuple[int, dict[str, dict[Any, int]]]:
        """The total and every facet's counts over all hits, in one query."""
        columns = ", ".join(_FACET_COLUMNS)
        hits = " UNION ALL ".join(
            f"SELECT {', '.join(f'e.{c}' for c in _FACET_COLUMNS)} FROM {source}"
            for source in branches
        )
        cur.execute(
            f"SELECT GROUPING({columns}), {columns}, count(*) FROM ({hits}) h"
            f" GROUP BY GROUPING SETS ({', '.join(f'({c})' for c in _FACET_COLUMNS)}, ())",
            params,
        )
        total = 0
        counts: dict[str, dict[Any, int]] = {name: {} for name in FACETS}
        for mask, *values, n in cur.fetchall():
            if mask == 0b11111:
                total = n
            else:
                name = _FACET_MASKS[mask]
                counts[name][values[_FACET_COLUMNS.index(name)]] = n
        return total, counts

    @staticmethod
    def _newest(cur: psycopg.Cursor, branches: list[str], params: dict[str, Any]) -> list[tuple]:
        """One page in date order (newest first, then by key)."""
        columns = ", ".join(f"e.{c}" for c in _HIT_COLUMNS)
        # Ordered and limited inside each branch, so the planner may walk the date index
        # and stop early: a broad query then never reads all its hits.
        hits = " UNION ALL ".join(
            f"(SELECT {columns}, NULL::float8 AS score FROM {source}"
            " ORDER BY e.signed_on DESC, e.key LIMIT %(window)s)"
            for source in branches
        )
        cur.execute(
            f"SELECT * FROM ({hits}) h ORDER BY signed_on DESC, key"
            " LIMIT %(limit)s OFFSET %(offset)s",
            params,
        )
        return cur.fetchall()

    def _ranked(
        self,
        cur: psycopg.Cursor,
        node: Node,
        branches: list[str],
        params: dict[str, Any],
        years: dict[int, int],
    ) -> list[tuple]:
        """One page by relevance: ts_rank of the match, plus whole words in names.

        Ranking reads every ranked hit's tsvector. Past ``rank_limit`` hits, only about the
        newest ``rank_limit`` are ranked (signed from a day estimated from the year facet:
        no sort), and the older ones follow them, newest first."""
        score = "coalesce(ts_rank(e.doc, CAST(%(q)s AS tsquery)), 0)"  # 0 for windowed ones
        words = rank_words(node)
        if words:
            params["w"] = " | ".join(map(quote, words))
            score += f" + {RANK_WEIGHT} * ts_rank(e.words, CAST(%(w)s AS tsquery))"
        # Rounded as the seam rounds scores, so that ties are ordered (by date, then key)
        # the same way across pages here as the seam orders them within one.
        score = f"round(({score})::numeric, 4)::float8"
        columns = ", ".join(f"e.{c}" for c in _HIT_COLUMNS)
        params["cut"] = cut = self._cut(years)
        # Days since the cut, not a range: a range would invite the date index, and a test
        # of each dated row's tsvector (read from TOAST) in place of the GIN bitmap.
        newer = "TRUE" if cut is None else "e.signed_on - %(cut)s >= 0"
        ranked = " UNION ALL ".join(
            f"SELECT {columns}, {score} AS score FROM {source} AND {newer}" for source in branches
        )
        cur.execute(
            f"SELECT *, count(*) OVER () FROM ({ranked}) h"
            " ORDER BY score DESC, signed_on DESC, key LIMIT %(limit)s OFFSET %(offset)s",
            params,
        )
        found = [values[:-1] for values in cur.fetchall()]
        if cut is None or len(found) == params["limit"]:
            return found
        # The page runs past the ranked hits: the older ones follow, newest first.
        if found:  # from the first older one on
            params["skip"], params["take"] = 0, params["limit"] - len(found)
        else:  # past as many older ones as the ranked ones do not fill of the offset
            cur.execute(f"SELECT count(*) FROM ({ranked}) h", params)
            params["skip"] = params["offset"] - cur.fetchone()[0]
            params["take"] = params["limit"]
        older = " UNION ALL ".join(
            f"(SELECT {columns}, 0::float8 AS score FROM {source} AND e.signed_on - %(cut)s < 0"
            " ORDER BY e.signed_on DESC, e.key LIMIT %(skip)s + %(take)s)"
            for source in branches
        )
        cur.execute(
            f"SELECT * FROM ({older}) h ORDER BY signed_on DESC, key"
            " LIMIT %(take)s OFFSET %(skip)s",
            params,
        )
        return found + cur.fetchall()

    def _cut(self, years: dict[int, int]) -> dt.date | None:
        """The signing day from which hits are ranked (None: all of them), estimated so
        that about ``rank_limit`` are, as if each year's hits were spread evenly over it."""
        ranked = 0
        for year, n in sorted(years.items(), reverse=True):
            if self.rank_limit is not None and ranked + n > self.rank_limit:
                days = round((self.rank_limit - ranked) / n * 365)
                return dt.date(year, 12, 31) - dt.timedelta(days=days)
            ranked += n
        return None

    def _fingerprints(self) -> dict[str, str]:
        def work(cur: psycopg.Cursor, generation: int) -> dict[str, str]:
            cur.execute(f"SELECT key, fingerprint FROM {self._table(generation)}")
            return dict(cur.fetchall())

        return self._read(work, {})

    def _count(self) -> int:
        def work(cur: psycopg.Cursor, generation: int) -> int:
            cur.execute(f"SELECT count(*) FROM {self._table(generation)}")
            return int(cur.fetchone()[0])

        return self._read(work, 0)

    # -- for tests and tools ------------------------------------------------------------

    def current_generation(self) -> int | None:
        """The current generation (None before the first open)."""
        self._ready()
        with self._connection() as conn, conn.cursor() as cur:
            cur.execute(f"SELECT generation FROM {self.schema}.state WHERE id = 1")
            found = cur.fetchone()
            return None if found is None else found[0]

    def all_generations(self) -> list[int]:
        """Every generation that has tables, the current one included."""
        self._ready()
        with self._connection() as conn, conn.cursor() as cur:
            return sorted(self._generations(cur))
