"""Shared fixtures: one warm LibreOffice listener for the whole suite, and for each test a
fresh data root with a real SQLite catalogue and file store."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import users
from archive.core import Archive
from templates.convert import Converter

DATA = Path(__file__).parent / "data"
ROLES = ("clerk", "archivist", "manager", "admin")


@pytest.fixture(scope="session")
def converter(tmp_path_factory) -> Iterator[Converter]:
    """The real LibreOffice, started once and shared (a cold start costs seconds)."""
    root = tmp_path_factory.mktemp("libreoffice")
    conv = Converter(profile_dir=root / "profile", log_file=root / "unoserver.log")
    conv.start()
    yield conv
    conv.close()


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def settings(data_dir, converter) -> dict:
    return {"DATA_DIR": str(data_dir), "CONVERTER_URL": converter._url, "TESTING": True}


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
