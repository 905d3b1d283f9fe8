"""Shared fixtures: one warm LibreOffice listener for the whole suite, and for each test a
fresh data root with a real catalogue (SQLite; or PostgreSQL for the modules that run
against both: ``pytestmark = BOTH_DATABASES``) and file store."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import users
from archive.core import Archive
from templates.convert import Converter
from templates.listener import Listener
from tests import postgres as postgresql

DATA = Path(__file__).parent / "data"
ROLES = ("clerk", "archivist", "manager", "admin")
# Most stories need a contract in effect, not its review: a manager approves drafts directly
# (HETONG_REVIEW_STEPS empty), in this process and in the servers it starts. The review
# chain's own stories (tests/service/test_review_chain.py) configure the chain.
os.environ["HETONG_REVIEW_STEPS"] = ""


@pytest.fixture(scope="session")
def converter(tmp_path_factory) -> Iterator[Converter]:
    """The real LibreOffice, started once and shared (a cold start costs seconds): a unoserver
    host that every app reaches through ``CONVERTER_URL`` (``converter._url``)."""
    root = tmp_path_factory.mktemp("libreoffice")
    host = Listener(profile_dir=root / "profile", log_file=root / "unoserver.log")
    conv = Converter(url=host.start())
    yield conv
    conv.close()
    host.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[postgresql.Server]:
    """Debian's PostgreSQL, started once for the session in a temporary folder."""
    if not postgresql.available():
        pytest.fail("PostgreSQL is not installed (make test installs the Debian package)")
    with postgresql.running() as server:
        yield server


@pytest.fixture
def database(request) -> str:
    """``sqlite`` unless a module asks for both (``BOTH_DATABASES``)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def database_url(request, database) -> str:
    """The catalogue's URL: empty (SQLite in the data root) or a fresh PostgreSQL database."""
    if database == "postgresql":
        return request.getfixturevalue("postgres").create()
    return ""


# A module that must hold on both catalogues: ``pytestmark = BOTH_DATABASES``.
BOTH_DATABASES = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def settings(data_dir, converter, database_url) -> dict:
    # One shared conversion host serves tests that file in parallel on purpose: let their
    # callers queue (the queue's bound has its own tests, with an app of their own).
    return {"DATA_DIR": str(data_dir), "CONVERTER_URL": converter._url, "CONVERTER_QUEUE": 64,
            "DATABASE_URL": database_url, "TESTING": True}  # fmt: skip


@pytest.fixture
def app(settings):
    from service import create_app

    app = create_app(settings)
    yield app
    app.extensions["hetong.archive"].close()


@pytest.fixture
def archive(app) -> Archive:
    return app.extensions["hetong.archive"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def tokens(archive) -> dict[str, str]:
    """One user per role; role → API token."""
    return {role: users.add_user(archive.catalogue, f"{role}-user", role)[1] for role in ROLES}


@pytest.fixture
def auth(tokens):
    def headers(role: str = "clerk") -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}"}

    return headers


@pytest.fixture
def payload() -> dict:
    """The example contract of the issue (a fresh copy each time)."""
    return copy.deepcopy(json.loads((DATA / "contract.json").read_text("utf-8")))


@pytest.fixture
def create(client, auth, payload):
    """POST a contract as a clerk; return the response JSON (asserting 201)."""

    def _create(body: dict | None = None, role: str = "clerk") -> dict:
        response = client.post("/api/v1/contracts", json=body or payload, headers=auth(role))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return _create


@pytest.fixture
def runner(settings, monkeypatch) -> CliRunner:
    """The ``hetong`` CLI on the same data root as ``app``."""
    monkeypatch.setenv("HETONG_DATA_DIR", settings["DATA_DIR"])
    monkeypatch.setenv("HETONG_CONVERTER_URL", settings["CONVERTER_URL"])
    monkeypatch.setenv("HETONG_DATABASE_URL", settings["DATABASE_URL"])
    return CliRunner()


@pytest.fixture
def effective(client, auth, create):
    """Create a contract and have a manager approve it; return its number."""

    def _effective(body: dict | None = None) -> str:
        number = create(body)["contract_no"]
        response = client.post(f"/api/v1/contracts/{number}/status", json={"status": "effective"},
                               headers=auth("manager"))  # fmt: skip
        assert response.status_code == 200, response.get_json()
        return number

    return _effective
