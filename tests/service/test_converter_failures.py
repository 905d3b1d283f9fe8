"""LibreOffice dies or hangs mid-service: the request gets a clear 503, nothing is half
filed, and the next request works. These tests own a converter (they break it)."""

from __future__ import annotations

import os
import signal
import time

import pytest
from sqlalchemy import func, select

from archive import users
from archive.models import Contract, Sequence


@pytest.fixture
def own_app(tmp_path):
    from service import create_app

    app = create_app({"DATA_DIR": str(tmp_path / "var"), "CONVERTER_TIMEOUT": 4})
    archive = app.extensions["hetong.archive"]
    token = users.add_user(archive.catalogue, "li", "clerk")[1]
    app.config["test_headers"] = {"Authorization": f"Bearer {token}"}
    yield app
    archive.close()


def _post(app, payload):
    return app.test_client().post(
        "/api/v1/contracts", json=payload, headers=app.config["test_headers"]
    )


def _filed(archive) -> tuple[int, int, int]:
    with archive.catalogue.reading() as s:
        contracts = s.scalar(select(func.count(Contract.id)))
        numbers = s.scalar(select(func.coalesce(func.sum(Sequence.last), 0)))
    return contracts, numbers, len(list(archive.storage.digests()))


def test_a_hung_libreoffice_gives_503_and_the_next_request_works(own_app, payload):
    archive = own_app.extensions["hetong.archive"]
    converter = archive.converter
    assert _post(own_app, payload).status_code == 201
    before = _filed(archive)

    os.killpg(converter.pid, signal.SIGSTOP)  # LibreOffice and its listener freeze
    started = time.monotonic()
    hung = _post(own_app, payload)
    assert hung.status_code == 503
    assert "超时" in hung.get_json()["message"]
    assert hung.headers["Retry-After"]
    assert time.monotonic() - started < 30
    assert _filed(archive) == before, "nothing of the failed request was kept"

    after = _post(own_app, payload)
    assert after.status_code == 201
    assert after.get_json()["contract_no"] == "HT-202611-0002", "the number was not used up"


def test_a_crashed_libreoffice_is_restarted_transparently(own_app, payload):
    converter = own_app.extensions["hetong.archive"].converter
    assert _post(own_app, payload).status_code == 201
    first_pid = converter.pid
    os.killpg(first_pid, signal.SIGKILL)
    time.sleep(0.5)
    response = _post(own_app, payload)
    assert response.status_code == 201, response.get_json()
    assert converter.pid != first_pid
