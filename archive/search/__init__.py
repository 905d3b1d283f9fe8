"""Full-text search of the archive: one seam, shared Chinese analysis, three engines.

``get_engine("tantivy", path)`` (the default), ``get_engine("whoosh", path)`` or
``get_engine("postgresql", path, database_url=url)`` (tables in the catalogue's PostgreSQL,
shared by every machine) returns an :class:`Engine`; each indexes :class:`Entry` objects
and answers the same query language (:mod:`archive.search.query`) with the same hits.
"""

from archive.search.analysis import warm
from archive.search.engine import Engine, Entry, Filters, SearchResult
from archive.search.factory import ENGINES, get_engine
from archive.search.query import QueryError, QueryTooLarge

__all__ = [
    "ENGINES",
    "Engine",
    "Entry",
    "Filters",
    "QueryError",
    "QueryTooLarge",
    "SearchResult",
    "get_engine",
    "warm",
]
