"""LibreOffice dies, hangs or is busy mid-service: the request gets a clear 503 with
Retry-After, nothing is half filed, and the next request works. These tests own a converter
pool (they break it)."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from sqlalchemy import func, select

from archive import contracts, users
from archive.models import Contract
from templates import sales_contract


@pytest.fixture
def own_app(request, tmp_path):
    """One worker, one place in the queue; a conversion counts as hung after 4 seconds
    (or after ``request.param`` seconds, for a test that holds a worker busy on purpose)."""
    from service import create_app

    hung_after = getattr(request, "param", 4)
    app = create_app({"DATA_DIR": str(tmp_path / "var"), "CONVERTER_TIMEOUT": hung_after,
                      "CONVERTER_WORKERS": 1, "CONVERTER_QUEUE": 1})  # fmt: skip
    archive = app.extensions["hetong.archive"]
    token = users.add_user(archive.catalogue, "li", "clerk")[1]
    app.config["test_headers"] = {"Authorization": f"Bearer {token}"}
    yield app
    archive.close()


def _post(app, payload):
    return app.test_client().post(
        "/api/v1/contracts", json=payload, headers=app.config["test_headers"]
    )


def _filed(archive) -> tuple[int, int]:
    """Contracts and stored files. (A number reserved for a failed filing is given back and
    reused, which the tests check by the next contract's number.)"""
    with archive.catalogue.reading() as s:
        contracts = s.scalar(select(func.count(Contract.id)))
    return contracts, len(list(archive.storage.digests()))


def test_healthz_shows_each_worker_and_never_starts_libreoffice(own_app, payload):
    client = own_app.test_client()
    before = client.get("/healthz").get_json()["converter"]
    assert before["mode"] == "local" and before["queue"] == 1
    assert before["workers"] == [{"worker": 1, "pid": None, "state": "stopped", "conversions": 0,
                                  "total": 0, "restarts": 0, "profile": "own"}]  # fmt: skip
    assert _post(own_app, payload).status_code == 201
    worker = client.get("/healthz").get_json()["converter"]["workers"][0]
    assert worker["state"] == "idle" and worker["pid"] and worker["total"] == 1


def test_a_hung_libreoffice_gives_503_and_the_next_request_works(own_app, payload):
    archive = own_app.extensions["hetong.archive"]
    converter = archive.converter
    assert _post(own_app, payload).status_code == 201
    before = _filed(archive)

    os.killpg(converter.pid, signal.SIGSTOP)  # the worker and its LibreOffice freeze
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


# The worker is frozen to keep it busy, not to hang it: were it taken for hung (on a loaded
# machine the test can take longer than 4 seconds), it would be killed mid-test.
@pytest.mark.parametrize("own_app", [120], indirect=True)
def test_a_full_converter_queue_gives_503_with_retry_after_at_once(own_app, payload, docx):
    archive = own_app.extensions["hetong.archive"]
    converter = archive.converter
    converter.start()
    frozen = converter.pid
    before = _filed(archive)
    others = [threading.Thread(target=_convert_quietly, args=(converter, docx)) for _ in (1, 2)]
    os.killpg(frozen, signal.SIGSTOP)  # one caller stays converting, one waits: the queue is full
    try:
        others[0].start()
        _wait_until(lambda: converter.status()["workers"][0]["state"] == "busy")
        others[1].start()
        _wait_until(lambda: converter.status()["waiting"] == 1)
        busy = _post(own_app, payload)
    finally:
        os.killpg(frozen, signal.SIGCONT)
    for thread in others:
        thread.join(30)
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "2"
    assert "排队" in busy.get_json()["message"]
    assert _filed(archive) == before, "nothing of the refused request was kept"
    assert _post(own_app, payload).get_json()["contract_no"] == "HT-202611-0001"


@pytest.fixture
def docx(own_app, payload) -> bytes:
    archive = own_app.extensions["hetong.archive"]
    data = contracts.validate(archive, payload)
    context = sales_contract.context("HT-202611-0001", data)
    props = sales_contract.properties("HT-202611-0001", data)
    return archive.renderer.render("sales_contract", context, properties=props).data


def _convert_quietly(converter, docx: bytes) -> None:
    converter.to_pdf(docx)


def _wait_until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
