"""The full-text index (Whoosh): derived data, rebuilt at will from catalogue and files.

One index entry per filed document (contract, amendment, delivery notice, scan), with its
own text and its contract's fields. Changes reach it through the outbox: the transaction
that changes a contract records its number in ``index_outbox``; ``apply_pending`` rewrites
those contracts' entries after the commit and only then clears the rows, so a crash can
delay an entry but never lose it. One writer at a time, across threads and processes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
import shutil
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from docx import Document as Docx
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import sorting
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.qparser import QueryParser

from archive.analysis import gram_analyzer, is_han, word_analyzer
from archive.catalogue import Catalogue
from archive.errors import ArchiveError
from archive.locks import exclusive
from archive.models import Contract, Document, IndexOutbox
from archive.receivables import payment_state as _state
from archive.storage import Storage
from schemas.money import to_cents
from templates.pdf import text as pdf_text

log = logging.getLogger(__name__)

TITLES = {"sales_contract": "销售合同", "amendment": "补充协议", "delivery_notice": "发货通知单",
          "signed_scan": "签署扫描件"}  # fmt: skip
FACETS = ("region", "year", "status", "kind", "payment_state")
# Fields a query may name (field:value); the rest of the schema is internal.
QUERY_FIELDS = ("content", "buyer", "seller", "product", "contract_no", "number", "region",
                "status", "kind", "payment_state", "year")  # fmt: skip
_GRAM_FIELDS = {"content", "buyer", "seller", "product"}
_PREFIX_FIELDS = _GRAM_FIELDS | {"contract_no", "number"}


class QueryError(ArchiveError):
    """The search query cannot be understood."""

    code = "bad_query"


def schema() -> Schema:
    grams = gram_analyzer()
    return Schema(
        key=ID(stored=True, unique=True),
        number=KEYWORD(stored=True, lowercase=True),
        contract_no=KEYWORD(stored=True, lowercase=True),
        kind=ID(stored=True, sortable=True),
        title=STORED,
        archival_code=STORED,
        region=ID(stored=True, sortable=True),
        year=NUMERIC(int, stored=True, sortable=True),
        status=ID(stored=True, sortable=True),
        payment_state=ID(stored=True, sortable=True),
        signed_on=DATETIME(stored=True, sortable=True),
        amount=NUMERIC(int, bits=64, stored=True, sortable=True),
        buyer=TEXT(analyzer=grams, multitoken_query="phrase"),
        seller=TEXT(analyzer=grams, multitoken_query="phrase"),
        product=TEXT(analyzer=grams, multitoken_query="phrase"),
        content=TEXT(analyzer=grams, stored=True, multitoken_query="phrase"),
        words=TEXT(analyzer=word_analyzer(), multitoken_query="or"),
        fingerprint=STORED,
    )


# -- what goes into the index ----------------------------------------------------------------


def document_text(storage: Storage, doc: Document) -> str:
    """The words of a stored file: a .docx through python-docx, a PDF through pypdf."""
    data = storage.get(doc.sha256)
    if doc.format == "docx":
        word = Docx(io.BytesIO(data))
        parts = [p.text for p in word.paragraphs]
        for table in word.tables:
            for row in table.rows:
                parts.extend(cell.text for cell in row.cells)
        return "\n".join(parts)
    return pdf_text(data)


def contract_fields(contract: Contract) -> dict[str, str]:
    terms = contract.terms
    products = " ".join(f"{i['name']} {i.get('spec') or ''}" for i in terms["items"])
    parties = [terms["seller"], terms["buyer"]]
    contacts = " ".join(f"{p.get('address', '')} {p.get('phone') or ''}" for p in parties)
    return {
        "buyer": terms["buyer"]["name"],
        "seller": terms["seller"]["name"],
        "product": products,
        "summary": " ".join(
            [
                contract.contract_no,
                contract.archival_code or "",
                contract.region,
                terms["seller"]["name"],
                terms["buyer"]["name"],
                products,
                contacts,
            ]
        ),
    }


def _indexed_documents(contract: Contract) -> dict[str, Document]:
    """One file per document of a live dossier: the .docx where there is one (exact text)."""
    if contract.gone:
        return {}
    by_number: dict[str, Document] = {}
    for doc in contract.documents:
        current = by_number.get(doc.number)
        if current is None or (doc.format == "docx" and current.format != "docx"):
            by_number[doc.number] = doc
    return by_number


def _payment_state(contract: Contract) -> str:
    return _state(contract, dt.date.today())["payment_state"]


def _prints(contract: Contract, documents: dict[str, Document], payment_state: str):
    state = f"{contract.status}|{payment_state}|{contract.total}"
    return {number: hashlib.sha256(f"{doc.sha256}|{state}".encode()).hexdigest()[:32]
            for number, doc in documents.items()}  # fmt: skip


def fingerprints(contract: Contract) -> dict[str, str]:
    """Document number → what its entry must record: the file and the contract's state."""
    return _prints(contract, _indexed_documents(contract), _payment_state(contract))


def entries(storage: Storage, contract: Contract) -> list[dict[str, Any]]:
    """The index entries of one contract's dossier (none once it is destroyed)."""
    documents = _indexed_documents(contract)
    if not documents:
        return []
    fields_ = contract_fields(contract)
    payment_state = _payment_state(contract)
    prints = _prints(contract, documents, payment_state)
    result = []
    for number, doc in documents.items():
        body = document_text(storage, doc)
        content = f"{body}\n{fields_['summary']}"
        result.append({
            "key": number, "number": number, "contract_no": contract.contract_no,
            "kind": doc.kind, "title": f"{TITLES.get(doc.kind, doc.kind)} {number}",
            "archival_code": doc.archival_code or "", "region": contract.region,
            "year": contract.signed_on.year, "status": contract.status,
            "payment_state": payment_state,
            "signed_on": dt.datetime.combine(contract.signed_on, dt.time()),
            "amount": to_cents(contract.total), "buyer": fields_["buyer"],
            "seller": fields_["seller"], "product": fields_["product"], "content": content,
            "words": content, "fingerprint": prints[number],
        })  # fmt: skip
    return result


# -- the index -------------------------------------------------------------------------------


@dataclass
class SearchResult:
    total: int
    page: int
    per_page: int
    hits: list[dict[str, Any]]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class Index:
    def __init__(self, path: Path, catalogue: Catalogue, storage: Storage) -> None:
        self.path = Path(path)
        self.catalogue = catalogue
        self.storage = storage
        self.lock_path = self.path.parent / "index.lock"
        self._ix = None

    # -- opening --------------------------------------------------------------------------

    def open(self) -> Index:
        self.path.mkdir(parents=True, exist_ok=True)
        with exclusive(self.lock_path):
            if whoosh_index.exists_in(str(self.path)):
                self._ix = whoosh_index.open_dir(str(self.path))
            else:
                self._ix = whoosh_index.create_in(str(self.path), schema())
        return self

    @property
    def ix(self):
        # Whoosh reads the newest table of contents from the folder for every searcher and
        # writer, so a rebuild swapped in by another process is seen without reopening.
        if self._ix is None:
            self.open()
        return self._ix

    # -- writing --------------------------------------------------------------------------

    def apply_pending(self) -> int:
        """Rewrite the entries of every contract in the outbox; return how many."""
        with exclusive(self.lock_path):
            with self.catalogue.reading() as session:
                rows = session.execute(select(IndexOutbox.id, IndexOutbox.contract_no)).all()
                if not rows:
                    return 0
                numbers = sorted({no for _, no in rows})
                contracts = {
                    c.contract_no: c
                    for c in session.scalars(
                        select(Contract).where(Contract.contract_no.in_(numbers))
                        .options(selectinload(Contract.documents))
                    )
                }  # fmt: skip
            writer = self.ix.writer()
            try:
                for number in numbers:
                    writer.delete_by_term("contract_no", number.lower())
                    contract = contracts.get(number)
                    for entry in entries(self.storage, contract) if contract else []:
                        writer.add_document(**entry)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            last = max(row_id for row_id, _ in rows)
            with self.catalogue.writing() as session:
                session.execute(delete(IndexOutbox).where(IndexOutbox.id <= last))
        log.info("index: rewrote %d contract(s)", len(numbers))
        return len(numbers)

    def apply_pending_quietly(self) -> None:
        """After a commit: the change is safe in the catalogue; an index failure only delays
        its entry (the outbox keeps it), so it is logged, not raised."""
        try:
            self.apply_pending()
        except Exception:
            log.exception("index update failed; it stays queued and is retried")

    def rebuild(self) -> int:
        """Build a fresh index from the catalogue and files, then swap it in."""
        fresh = self.path.with_name(self.path.name + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        with exclusive(self.lock_path):
            ix = whoosh_index.create_in(str(fresh), schema())
            writer = ix.writer()
            count = 0
            with self.catalogue.reading() as session:
                last = session.scalar(select(func.max(IndexOutbox.id))) or 0
                contracts = session.scalars(
                    select(Contract).options(selectinload(Contract.documents))
                ).all()
            for contract in contracts:
                for entry in entries(self.storage, contract):
                    writer.add_document(**entry)
                    count += 1
            writer.commit()
            old = self.path.with_name(self.path.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if self.path.exists():
                self.path.rename(old)
            fresh.rename(self.path)
            shutil.rmtree(old, ignore_errors=True)
            with self.catalogue.writing() as session:
                session.execute(delete(IndexOutbox).where(IndexOutbox.id <= last))
        return count

    def check(self) -> dict[str, list[str]]:
        """Documents missing from the index, stale in it, or there without a document."""
        expected: dict[str, str] = {}
        with self.catalogue.reading() as session:
            pending = set(session.scalars(select(IndexOutbox.contract_no)))
            query = select(Contract).options(selectinload(Contract.documents))
            for contract in session.scalars(query):
                expected.update(fingerprints(contract))
        with self.ix.searcher() as searcher:
            indexed = {f["key"]: f["fingerprint"] for f in searcher.all_stored_fields()}
        return {
            "missing": sorted(set(expected) - set(indexed)),
            "stale": sorted(
                k for k in expected.keys() & indexed.keys() if expected[k] != indexed[k]
            ),
            "orphaned": sorted(set(indexed) - set(expected)),
            "pending": sorted(pending),
        }

    # -- reading --------------------------------------------------------------------------

    def search(
        self,
        text: str = "",
        *,
        filters: dict[str, Any] | None = None,
        page: int = 1,
        per_page: int = 20,
        sort: str = "relevance",
    ) -> SearchResult:
        main, boost = self.parse(text)
        query = wq.AndMaybe(main, boost) if boost is not None else main
        restrict = _filters(filters or {})
        facets = {name: sorting.FieldFacet(name, maptype=sorting.Count) for name in FACETS}
        sortedby = None
        if sort == "date":
            sortedby = sorting.MultiFacet([sorting.FieldFacet("signed_on", reverse=True),
                                           sorting.FieldFacet("key")])  # fmt: skip
        with self.ix.searcher() as searcher:
            results = searcher.search_page(
                query, page, pagelen=per_page, filter=restrict, groupedby=facets,
                sortedby=sortedby, terms=True,
            )  # fmt: skip
            hits = []
            marks = _marks(main)
            for hit in results:
                hits.append({
                    "contract_no": hit["contract_no"], "number": hit["number"],
                    "kind": hit["kind"], "title": hit["title"],
                    "archival_code": hit.get("archival_code") or None,
                    "region": hit["region"], "year": hit["year"], "status": hit["status"],
                    "payment_state": hit["payment_state"],
                    "signed_on": hit["signed_on"].date().isoformat(),
                    # Sorted by date, Whoosh puts the sort key where the score was.
                    "score": round(float(hit.score), 4)
                    if isinstance(hit.score, int | float) else None,
                    "highlights": highlights(hit["content"], marks),
                })  # fmt: skip
            facet_counts = {
                name: {str(k): v for k, v in sorted(results.results.groups(name).items(),
                                                    key=lambda kv: str(kv[0]))}
                for name in FACETS
            }  # fmt: skip
            return SearchResult(results.total, page, per_page, hits, facet_counts)

    def parse(self, text: str) -> tuple[wq.Query, wq.Query | None]:
        """The user's query (AND/OR/NOT, "phrases", field:value) → (match, rank boost)."""
        text = (text or "").strip()
        if not text:
            return wq.Every(), None
        _validate(text)
        try:
            parser = QueryParser("content", self.ix.schema)
            main = _prefix_latin(parser.parse(text))
            boost = QueryParser("words", self.ix.schema).parse(text)
        except Exception as exc:  # Whoosh raises assorted errors on odd input
            raise QueryError(f"无法解析查询：{exc}") from exc
        if main is wq.NullQuery:
            raise QueryError("查询中没有可检索的文字。")
        return main, boost


def _validate(text: str) -> None:
    if text.count('"') % 2:
        raise QueryError("引号不成对。")
    depth = 0
    for ch in re.sub(r'"[^"]*"', "", text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:
        raise QueryError("括号不成对。")
    for name in re.findall(r"(?:^|[\s(])([A-Za-z_]+):", re.sub(r'"[^"]*"', "", text)):
        if name not in QUERY_FIELDS:
            raise QueryError(f"未知字段 {name}，可用：{', '.join(QUERY_FIELDS)}。")


def _prefix_latin(query: wq.Query) -> wq.Query:
    """Latin and digit terms match by prefix: ``HT-202611`` finds HT-202611-0001."""

    def visit(node):
        if isinstance(node, wq.Term) and node.fieldname in _PREFIX_FIELDS:
            value = str(node.text)
            if value and not is_han(value):
                return wq.Prefix(node.fieldname, value, boost=node.boost)
        return node

    return query.accept(visit)


def _filters(filters: dict[str, Any]) -> wq.Query | None:
    parts: list[wq.Query] = []
    for name in ("region", "status", "kind", "payment_state"):
        if filters.get(name):
            parts.append(wq.Term(name, filters[name]))
    if filters.get("year"):
        parts.append(wq.NumericRange("year", filters["year"], filters["year"]))
    if filters.get("signed_from") or filters.get("signed_to"):
        start = filters.get("signed_from")
        end = filters.get("signed_to")
        parts.append(wq.DateRange(
            "signed_on",
            dt.datetime.combine(start, dt.time()) if start else None,
            dt.datetime.combine(end, dt.time.max) if end else None,
        ))  # fmt: skip
    if filters.get("amount_min") is not None or filters.get("amount_max") is not None:
        low, high = filters.get("amount_min"), filters.get("amount_max")
        parts.append(wq.NumericRange("amount", to_cents(low) if low is not None else None,
                                     to_cents(high) if high is not None else None))  # fmt: skip
    return wq.And(parts) if parts else None


def _marks(query: wq.Query) -> tuple[set[str], set[str]]:
    """(whole tokens, prefixes) the query matches in text fields, for highlighting."""
    exact: set[str] = set()
    prefixes: set[str] = set()
    for leaf in query.leaves():
        if isinstance(leaf, wq.Prefix):
            prefixes.add(str(leaf.text))
        elif isinstance(leaf, wq.Phrase):
            exact.update(str(w) for w in leaf.words)
        elif isinstance(leaf, wq.Term) and leaf.fieldname in _GRAM_FIELDS:
            exact.add(str(leaf.text))
    return exact, prefixes


def highlights(text: str, marks: tuple[set[str], set[str]], *, limit: int = 3,
               context: int = 18) -> list[str]:  # fmt: skip
    """Short fragments of ``text`` with matched text in <mark>…</mark> (HTML-escaped)."""
    exact, prefixes = marks
    if not exact and not prefixes:
        return []
    spans = []
    for token in gram_analyzer()(text, chars=True):
        t = token.text
        if t in exact or any(t.startswith(p) for p in prefixes):
            spans.append((token.startchar, token.endchar))
    if not spans:
        return []
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    fragments, used_until = [], -1
    for start, end in merged:
        if start < used_until or len(fragments) >= limit:
            continue
        left, right = max(0, start - context), min(len(text), end + context)
        inside = [m for m in merged if m[0] >= left and m[1] <= right]
        out, cursor = [], left
        for s, e in inside:
            out.append(escape(text[cursor:s]))
            out.append(f"<mark>{escape(text[s:e])}</mark>")
            cursor = e
        out.append(escape(text[cursor:right]))
        fragment = re.sub(r"\s+", " ", "".join(out)).strip()
        fragments.append(("…" if left else "") + fragment + ("…" if right < len(text) else ""))
        used_until = right
    return fragments
