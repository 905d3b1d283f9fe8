"""Searching the archive as a person: the index answers only within what they may see
(``archive.access``), so a hidden contract is never counted, highlighted or hinted at."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from archive.access import scope_of
from archive.actor import Actor
from archive.search import Filters, SearchResult
from archive.search.engine import Sort

if TYPE_CHECKING:
    from archive.core import Archive


def visible_filters(archive: Archive, actor: Actor, filters: Filters | None = None) -> Filters:
    """``filters`` narrowed to what ``actor`` may see today."""
    with archive.catalogue.reading() as session:
        scope = scope_of(session, actor)
    return replace(filters or Filters(), visible=scope.clauses)


def search(
    archive: Archive, actor: Actor, query: str, *, filters: Filters | None = None,
    page: int = 1, per_page: int = 20, sort: Sort = "relevance",
) -> SearchResult:  # fmt: skip
    """One page of what ``actor`` may find; raises ``QueryError`` for a query that cannot
    be understood."""
    return archive.index.search(query, filters=visible_filters(archive, actor, filters),
                                page=page, per_page=per_page, sort=sort)  # fmt: skip
