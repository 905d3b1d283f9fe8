"""An engine by name. Kept apart from :mod:`archive.search.engine`, which the engines
themselves import, so that the modules of this package import each other in one direction."""

from __future__ import annotations

from pathlib import Path

from archive.search.engine import Engine

ENGINES = ("tantivy", "whoosh", "postgresql")


def get_engine(name: str, path: Path, *, database_url: str = "") -> Engine:
    """An engine: ``tantivy`` (the default, embedded Rust) or ``whoosh`` (pure Python, for
    small archives) on the index folder ``path``; or ``postgresql``, in its own tables of
    the database at ``database_url`` (the catalogue's, shared by every machine; ``path`` is
    not used). The embedded engines ignore ``database_url``. An engine opens itself on first
    use; ``open()`` does so at once."""
    # Imported on demand: a process pays for the engine it uses only.
    if name == "tantivy":
        from archive.search.tantivy_engine import TantivyEngine

        return TantivyEngine(path)
    if name == "whoosh":
        from archive.search.whoosh_engine import WhooshEngine

        return WhooshEngine(path)
    if name == "postgresql":
        if not database_url:
            raise ValueError("the postgresql search engine needs a database_url")
        from archive.search.postgres_engine import PostgresEngine

        return PostgresEngine(database_url)
    raise ValueError(f"unknown search engine {name!r}; known: {', '.join(ENGINES)}")
