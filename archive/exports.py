"""Lists people take away as files: search results (检索结果) and the retrieval register
(查阅登记). Each holds at most ``MAX_ROWS`` rows and says how many there were, and each
export is itself recorded in the register, like a retrieval: who took what, when, how much.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from archive import audit
from archive.actor import Actor
from archive.errors import Forbidden, InvalidData
from archive.models import Contract
from archive.searching import visible_filters

if TYPE_CHECKING:
    from archive.core import Archive
    from archive.search import Filters

# An export is for reading in a spreadsheet, not a backup: beyond this, narrow the filters.
MAX_ROWS = 10_000
# The search engine's largest page (see ``Engine.search``).
SEARCH_PAGE = 1000
REGISTER_READERS = ("archivist", "manager")


@dataclass
class Export:
    rows: list[Any]
    total: int  # how many matched: more than ``rows`` when the export was cut at MAX_ROWS
    # For the register: the documents its retrievals name (``audit.documents_of``).
    documents: dict[int, dict[str, str]] = field(default_factory=dict)

    @property
    def cut(self) -> bool:
        return self.total > len(self.rows)


def search_results(archive: Archive, actor: Actor, query: str, filters: Filters, *,
                   sort: str, fmt: str, criteria: dict[str, Any],
                   purpose: str) -> Export:  # fmt: skip
    """Every hit of a search ``actor`` may see (up to ``MAX_ROWS``), without highlights,
    with the parties and the amount of its contract from the catalogue. ``criteria``: the
    search as asked, kept with the audit entry with its ``purpose``. Raises ``QueryError``
    like the search itself."""
    _require_purpose(purpose)
    filters = visible_filters(archive, actor, filters)
    limit = MAX_ROWS
    per_page = min(SEARCH_PAGE, limit)
    hits: list[dict[str, Any]] = []
    total, page = 0, 1
    while len(hits) < limit:
        result = archive.index.search(query, filters=filters, page=page, per_page=per_page,
                                      sort=sort)  # fmt: skip
        total = result.total
        hits.extend(result.hits)
        if not result.hits or page * per_page >= total:
            break
        page += 1
    hits = hits[:limit]
    parties = _parties(archive, sorted({hit["contract_no"] for hit in hits}))
    rows = [{**{k: v for k, v in hit.items() if k != "highlights"},
             **parties.get(hit["contract_no"], {})} for hit in hits]  # fmt: skip
    _record(archive, actor, "search.export", purpose, fmt=fmt, rows=len(rows), total=total,
            criteria=criteria)  # fmt: skip
    return Export(rows, total)


def access_log(archive: Archive, actor: Actor, *, fmt: str, criteria: dict[str, Any],
               purpose: str, user: str | None = None, contract_no: str | None = None,
               since: dt.date | None = None, until: dt.date | None = None) -> Export:  # fmt: skip
    """The retrieval register (up to ``MAX_ROWS`` entries, newest first, of contracts
    ``actor`` may see) with the documents it names; archivists and managers only."""
    if not actor.can(*REGISTER_READERS):
        raise Forbidden("只有档案管理员或销售经理可以导出查阅登记。")
    _require_purpose(purpose)
    total, entries = audit.retrievals(archive.catalogue, actor, user=user,
                                      contract_no=contract_no, since=since, until=until,
                                      limit=MAX_ROWS)  # fmt: skip
    documents = audit.documents_of(archive.catalogue, entries)
    _record(archive, actor, "access_log.export", purpose, fmt=fmt, rows=len(entries),
            total=total, criteria=criteria)  # fmt: skip
    return Export(entries, total, documents)


def _parties(archive: Archive, numbers: list[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    with archive.catalogue.reading() as session:
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            query = select(Contract.contract_no, Contract.seller_name, Contract.buyer_name,
                           Contract.total).where(Contract.contract_no.in_(chunk))  # fmt: skip
            for row in session.execute(query):
                found[row.contract_no] = {"seller": row.seller_name, "buyer": row.buyer_name,
                                          "total": f"{row.total:.2f}"}  # fmt: skip
    return found


def _require_purpose(purpose: str | None) -> None:
    if not (purpose or "").strip():
        raise InvalidData({"purpose": ["导出须说明用途（记入查阅登记）。"]})


def _record(archive: Archive, actor: Actor, action: str, purpose: str, **detail: Any) -> None:
    with archive.catalogue.writing() as session:
        audit.record(session, actor, action, None, note=purpose.strip(), **detail)
