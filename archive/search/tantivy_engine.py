"""The default engine: tantivy, embedded (tantivy-py).

One long-lived ``tantivy.Index`` per process, reloaded before each search so commits from
other processes are seen. An ``IndexWriter`` exists only while a batch or a rebuild is being
written, under the folder's file lock: tantivy allows one writer per index across all
processes and fails the second with LockBusy, so ours queue instead.

Fields: the analysed token strings (``t_…`` whitespace-tokenized with positions, so phrase
queries over bigrams are exact; ``p_…`` prefix streams without positions; ``w_names`` for
ranking), raw fast fields for filters, facets and sorting, and one stored JSON blob for hits.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tantivy
from tantivy import FieldType, Occur, Order, Query

from archive.search.documents import (
    PREFIX_FIELDS,
    RANK_BOOST,
    TOKEN_FIELDS,
    WORDS_FIELD,
    date_sort_key,
    day_number,
    match_field,
    rank_words,
    stored,
    token_fields,
)
from archive.search.engine import (
    FACETS,
    Batch,
    Entry,
    Filters,
    FolderEngine,
    Sort,
    facet_counts,
)
from archive.search.query import EXACT_FIELDS, All, Match, Node, Not, Or, Prefix, plan

log = logging.getLogger(__name__)

_RAW = ("key", "contract_no", "region", "status", "kind", "payment_state", "owner", "secrecy",
        "sort_key")  # fmt: skip
_INTEGERS = ("year", "signed", "amount")
_AGGREGATIONS = {name: {"terms": {"field": name, "size": 10_000}} for name in FACETS}
_META = re.compile(r"([.\-|])")  # the regex syntax characters a token can hold


def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in _RAW:
        builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    for name in _INTEGERS:
        builder.add_integer_field(name, indexed=True, fast=True)
    for name in TOKEN_FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="position")
    for name in PREFIX_FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="basic")
    builder.add_text_field(WORDS_FIELD, tokenizer_name="whitespace", index_option="freq")
    builder.add_bytes_field("stored", stored=True)
    return builder.build()


SCHEMA = schema()


def document(entry: Entry) -> tantivy.Document:
    """An entry as a tantivy document: every value typed as its field expects."""
    values: dict[str, Any] = token_fields(entry)
    values.update(
        key=entry.key,
        contract_no=entry.contract_no,
        region=entry.region,
        status=entry.status,
        kind=entry.kind,
        payment_state=entry.payment_state,
        owner=entry.owner,
        secrecy=entry.secrecy,
        sort_key=date_sort_key(entry),
        year=int(entry.year),
        signed=day_number(entry.signed_on),
        amount=int(entry.amount_cents),
        stored=json.dumps(stored(entry), ensure_ascii=False).encode(),
    )
    return tantivy.Document.from_dict(values, SCHEMA)


# -- compiling the query tree ---------------------------------------------------------------


def _all_but(query: Query) -> Query:
    return Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.MustNot, query)])


def _exact(match: Match) -> Query:
    value: str | int = int(match.text) if match.field == "year" else match.text
    return Query.const_score_query(Query.term_query(SCHEMA, match.field, value), 0.0)


def _text(match: Match) -> Query:
    name = match_field(match)
    parts = []
    for clause in plan(match):
        if isinstance(clause, Prefix):
            parts.append(Query.term_query(SCHEMA, f"p_{name}", clause.text))
        elif len(clause) == 1:  # not a phrase: given one term, tantivy's phrase queries panic
            slot = clause[0]
            compiled = Query.regex_query if slot.pattern else Query.term_query
            parts.append(compiled(SCHEMA, f"t_{name}", slot.text))
        elif any(slot.pattern for slot in clause):
            words = [s.text if s.pattern else _META.sub(r"\\\1", s.text) for s in clause]
            parts.append(Query.regex_phrase_query(SCHEMA, f"t_{name}", words))
        else:
            parts.append(Query.phrase_query(SCHEMA, f"t_{name}", [s.text for s in clause]))
    return parts[0] if len(parts) == 1 else Query.boolean_query([(Occur.Must, p) for p in parts])


def compile_query(node: Node) -> Query:
    if isinstance(node, All):
        return Query.all_query()
    if isinstance(node, Match):
        return _exact(node) if node.field in EXACT_FIELDS else _text(node)
    if isinstance(node, Not):
        return _all_but(compile_query(node.child))
    if isinstance(node, Or):
        return Query.boolean_query([(Occur.Should, compile_query(c)) for c in node.children])
    clauses = [
        (Occur.MustNot, compile_query(c.child))
        if isinstance(c, Not)
        else (Occur.Must, compile_query(c))
        for c in node.children
    ]
    if all(occur == Occur.MustNot for occur, _ in clauses):
        clauses.append((Occur.Must, Query.all_query()))
    return Query.boolean_query(clauses)


def _filters(filters: Filters) -> list[Query]:
    found = []
    for name, value in filters.terms().items():
        found.append(Query.term_query(SCHEMA, name, value))
    for name, (low, high) in (("signed", filters.signed()), ("amount", filters.cents())):
        if low is not None or high is not None:
            found.append(Query.range_query(SCHEMA, name, FieldType.Integer, low, high))
    visible = _visible(filters)
    if visible is not None:
        found.append(visible)
    return found


def _visible(filters: Filters) -> Query | None:
    """The access rule: any clause, each of whose fields holds one of its values."""
    clauses = filters.visibility()
    if clauses is None:
        return None
    if not clauses:
        return Query.empty_query()
    either = []
    for clause in clauses:
        # A term set, not a boolean of term queries: a clause of 5,000 contract numbers
        # filters 20,000 documents in about 5 ms, a third of what the boolean takes.
        parts = [Query.term_set_query(SCHEMA, name, values) for name, values in clause]
        if len(parts) == 1:
            either.append(parts[0])
        elif parts:
            either.append(Query.boolean_query([(Occur.Must, part) for part in parts]))
        else:  # a clause that tests nothing holds for every document
            either.append(Query.all_query())
    if len(either) == 1:
        return either[0]
    return Query.boolean_query([(Occur.Should, query) for query in either])


def full_query(node: Node, filters: Filters) -> Query:
    """Match, plus the ranking boost, plus filters that do not change the score."""
    clauses = [(Occur.Must, compile_query(node))]
    boost = rank_words(node)
    if boost:
        terms = [(Occur.Should, Query.term_query(SCHEMA, WORDS_FIELD, w)) for w in boost]
        clauses.append((Occur.Should, Query.boost_query(Query.boolean_query(terms), RANK_BOOST)))
    for query in _filters(filters):
        clauses.append((Occur.Must, Query.const_score_query(query, 0.0)))
    return clauses[0][1] if len(clauses) == 1 else Query.boolean_query(clauses)


# -- the engine ---------------------------------------------------------------------------


class TantivyEngine(FolderEngine):
    writer_heap = 64_000_000  # a batch: a handful of documents, rarely thousands
    build_heap = 256_000_000  # a rebuild: fewer, larger segments

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._index: tantivy.Index | None = None
        self._searcher: tantivy.Searcher | None = None
        self._lock = threading.Lock()

    def _create(self, generation: Path) -> None:
        tantivy.Index(SCHEMA, path=str(generation), reuse=False)

    def _open(self, generation: Path) -> None:
        index = tantivy.Index.open(str(generation))
        # Reload by hand (stat-cheap) before searches: no watcher thread on a folder that a
        # rebuild may remove.
        index.config_reader(reload_policy="manual")
        with self._lock:
            self._index, self._searcher = index, index.searcher()

    def _refresh(self) -> None:
        index = self._index
        if index is None:
            raise FileNotFoundError(f"search index in {self.path} is not open")
        index.reload()
        searcher = index.searcher()
        with self._lock:
            if self._index is index:
                self._searcher = searcher

    def close(self) -> None:
        with self._lock:
            self._index = self._searcher = None
        self._stamp = None

    def _apply(self, batch: Batch) -> None:
        assert self._index is not None
        with _committing(self._index.writer(heap_size=self.writer_heap, num_threads=1)) as writer:
            for contract_no in batch.deleted:
                writer.delete_documents_by_term("contract_no", contract_no)
            for entry in batch.added:
                writer.delete_documents_by_term("key", entry.key)
                writer.add_document(document(entry))
        self._refresh()

    def _build(self, generation: Path, batches: Iterable[Iterable[Entry]]) -> int:
        index = tantivy.Index(SCHEMA, path=str(generation), reuse=False)
        # One indexing thread: Python's analysis keeps the other core busy.
        count = 0
        with _committing(index.writer(heap_size=self.build_heap, num_threads=1)) as writer:
            for entries in batches:
                for entry in entries:
                    writer.add_document(document(entry))
                    count += 1
        return count

    def _current(self) -> tantivy.Searcher:
        searcher = self._searcher
        if searcher is None:
            raise FileNotFoundError(f"search index in {self.path} is not open")
        return searcher

    def _search(
        self, node: Node, filters: Filters, page: int, per_page: int, sort: Sort
    ) -> tuple[int, list[tuple[float | None, dict[str, Any]]], dict[str, dict[str, int]]]:
        searcher = self._current()
        query = full_query(node, filters)
        offset = (page - 1) * per_page
        if sort == "date":
            found = searcher.search(
                query, limit=per_page, offset=offset, order_by_field="sort_key", order=Order.Asc
            )
        else:
            found = searcher.search(query, limit=per_page, offset=offset)
        rows = [
            (None if sort == "date" else score, json.loads(searcher.doc(address)["stored"][0]))
            for score, address in found.hits
        ]
        buckets = searcher.aggregate(query, _AGGREGATIONS)
        counts = {
            name: {b["key"]: b["doc_count"] for b in buckets[name]["buckets"]} for name in FACETS
        }
        return found.count, rows, facet_counts(counts)

    def _fingerprints(self) -> dict[str, str]:
        searcher = self._current()
        if not searcher.num_docs:
            return {}
        found = searcher.search(Query.all_query(), limit=searcher.num_docs, count=False)
        prints = {}
        for _, address in found.hits:
            fields = json.loads(searcher.doc(address)["stored"][0])
            prints[fields["key"]] = fields["fingerprint"]
        return prints

    def _count(self) -> int:
        return self._current().num_docs


@contextmanager
def _committing(writer: tantivy.IndexWriter) -> Iterator[tantivy.IndexWriter]:
    """Commit what the block wrote, or roll it back if the block fails."""
    try:
        yield writer
        writer.commit()
    except BaseException:
        writer.rollback()
        raise
    finally:
        # Consumes the writer: its lock is released now, not whenever it is collected.
        writer.wait_merging_threads()
