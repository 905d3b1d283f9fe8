"""Fixtures: an engine of each kind on a fresh index, and the three contracts in it.

The embedded engines get a fresh folder per test; the PostgreSQL engine a database of the
session's throw-away server (tests/postgres.py), emptied after each test by dropping the
engine's schema (far cheaper than a database per test). Without PostgreSQL installed, its
stories are skipped."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest

from archive.search import ENGINES, Engine, get_engine
from archive.search.postgres_engine import SCHEMA
from tests import postgres
from tests.archive.search.contracts import fill, first_contract, second_contract, third_contract


@pytest.fixture(scope="session")
def postgres_server(request) -> Iterator[postgres.Server]:
    """The session's server: the catalogue tests' one (tests/conftest.py), else our own."""
    if not postgres.available():
        pytest.skip("PostgreSQL 15 (Debian's postgresql package) is not installed")
    try:
        shared = request.getfixturevalue("postgres")
    except pytest.FixtureLookupError:
        shared = None
    if shared is not None:
        yield shared
        return
    with postgres.running() as server:
        yield server


@pytest.fixture(scope="session")
def search_database(postgres_server: postgres.Server) -> str:
    """One database for the function-scoped engines (each test drops what it made)."""
    return postgres_server.create()


def drop_schema(url: str, schema: str = SCHEMA) -> None:
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=ENGINES)
def engine_name(request) -> str:
    return request.param


@pytest.fixture
def index_url(request, engine_name: str) -> Iterator[str]:
    """The database the postgresql engine uses in this test ('' for the others)."""
    if engine_name != "postgresql":
        yield ""
        return
    url = request.getfixturevalue("search_database")
    yield url
    drop_schema(url)


@pytest.fixture
def make_engine(engine_name: str, tmp_path, index_url: str) -> Iterator[Callable[[], Engine]]:
    """Another engine object on this test's index, as another process (or machine) opens
    it; every one made is closed at the end."""
    made: list[Engine] = []

    def make() -> Engine:
        engine = get_engine(engine_name, tmp_path / "index", database_url=index_url)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close()


@pytest.fixture
def engine(make_engine: Callable[[], Engine]) -> Engine:
    return make_engine().open()


@pytest.fixture
def archive(engine: Engine) -> Engine:
    """The three contracts."""
    return fill(engine, first_contract() + second_contract() + third_contract())
