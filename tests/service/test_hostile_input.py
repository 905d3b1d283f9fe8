"""A determined user, probing as an attacker would: every request does bounded work, answers
a clear 4xx naming what is wrong, and the rules hold however they are approached."""

from __future__ import annotations

import io
import json
import socket
import stat
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.service.conftest import call

STEP = {"reason": "原材料上涨", "effective_on": "2026-12-05"}


def _price(client, auth, number: str, price: str, role: str = "clerk"):
    change = {"field": "unit_price", "line": 1, "after": price}
    return client.post(f"/api/v1/contracts/{number}/amendments", headers=auth(role),
                       json={**STEP, "changes": [change]})  # fmt: skip


def test_small_steps_need_a_manager_exactly_like_one_big_one(client, auth, effective):
    number = effective()  # 2 × 185,000.00 + 10 × 1,250.50 = 382,505.00
    first = _price(client, auth, number, "202000.00")  # +34,000.00: +8.9%, a clerk may
    assert first.status_code == 201, first.get_json()
    second = _price(client, auth, number, "220000.00")  # +8.9% again, +18.3% since approval
    assert second.status_code == 403
    assert "382,505.00" in second.get_json()["message"]  # judged against what was approved
    assert _price(client, auth, number, "220000.00", role="manager").status_code == 201
    # What a manager signed is the new reference: a clerk's small step is small again.
    assert _price(client, auth, number, "235000.00").status_code == 201


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v1/contracts/HT-202611-0001/documents/9223372036854775808/download", 404),
     ("/api/v1/contracts?page=9223372036854775807", 422),
     ("/api/v1/contracts/HT-202611-0001/payments/99999999999999999999", 404)],
)  # fmt: skip
def test_ids_and_pages_out_of_range_are_4xx(client, auth, create, path, status):
    create()
    response = client.get(path, headers=auth("archivist"))
    assert response.status_code == status
    assert response.is_json and response.get_json()["message"]


def test_deeply_nested_json_is_refused_before_it_is_parsed(client, auth, archive):
    response = client.post("/api/v1/contracts", data=b"[" * 2000 + b"]" * 2000,
                           content_type="application/json", headers=auth())  # fmt: skip
    assert response.status_code == 400
    assert "嵌套过深" in response.get_json()["message"]


@pytest.mark.parametrize(
    ("query", "words"),
    [("(" * 2000, "q"), ("车床 " * 30, "检索词过多"), ("(" * 10 + "车床" + ")" * 10, "嵌套过深")],
)
def test_queries_beyond_their_limits_get_422_in_chinese(client, auth, query, words):
    response = client.get("/api/v1/search", query_string={"q": query}, headers=auth())
    assert response.status_code == 422
    body = response.get_json()
    assert "q" in body["errors"]
    assert words in json.dumps(body, ensure_ascii=False)
    assert "recursion" not in response.get_data(as_text=True)


HOSTILE = "正常\x00文本\x1b[31m\u202e反转"


def test_free_text_with_control_characters_is_refused_and_nothing_kept(
    client, auth, archive, effective
):
    number = effective()
    url = f"/api/v1/contracts/{number}"
    cases = [
        (client.post(f"{url}/status", headers=auth(),
                     json={"status": "completed", "note": HOSTILE}), "note"),
        (client.post(f"{url}/hold", headers=auth("archivist"), json={"reason": HOSTILE}),
         "reason"),
        (client.post(f"{url}/documents", headers=auth(), content_type="multipart/form-data",
                     data={"file": (io.BytesIO(b"%PDF-1.7"), "x.pdf"), "note": HOSTILE}),
         "note"),
        (client.get(f"{url}/documents/1/download", headers=auth(),
                    query_string={"purpose": HOSTILE}), "purpose"),
        (client.post(f"{url}/payments", headers=auth(), json={
            "amount": "1.00", "paid_on": "2026-11-25", "method": "现金", "note": "x" * 100_000}),
         "note"),
    ]  # fmt: skip
    for response, field in cases:
        assert response.status_code == 422, (field, response.get_json())
        assert field in response.get_json()["errors"], response.get_json()
    shown = client.get(url, headers=auth()).get_json()
    assert shown["status"] == "effective" and shown["retention"]["hold"] is None
    assert shown["payments"] == []
    log = client.get("/api/v1/access-log", headers=auth("archivist")).get_json()
    # the refused download was not a retrieval; the one look at the dossier above was
    assert [(e["action"], e["user"]) for e in log["items"]] == [("dossier.view", "clerk-user")]


def test_pages_and_api_answers_carry_safe_headers(client, auth, create):
    number = create()["contract_no"]
    page = client.get("/login")
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    api = client.get(f"/api/v1/contracts/{number}", headers=auth())
    for response in (page, api):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store"


def test_the_sign_in_cookie_is_secure_when_told_so(settings, tokens):
    from service import create_app

    app = create_app({**settings, "COOKIE_SECURE": True})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    app.extensions["hetong.archive"].close()


def test_what_the_archive_stores_is_readable_by_its_own_user_only(archive, create, data_dir):
    create()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    stored = [p for p in (data_dir / "files").rglob("*") if p.is_file()]
    assert stored and all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in stored)
    catalogue = data_dir / "catalogue.sqlite3"
    assert stat.S_IMODE(catalogue.stat().st_mode) & 0o007 == 0


def test_an_oversized_body_is_refused_before_it_is_read(served):
    base, _ = served(role="clerk")
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        # No token and no body: only the announced size, 200 MB.
        sock.sendall(b"POST /api/v1/contracts HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\n"
                     b"Content-Length: 209715200\r\n\r\n")  # fmt: skip
        answer = sock.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413")


def test_long_parallel_queries_leave_the_service_responsive(served):
    base, token = served(role="clerk")
    phrase = urllib.parse.quote(" ".join(["上海申远机电设备有限公司"] * 250))  # ~7.5 KB

    def search(_):
        try:
            call(f"{base}/api/v1/search?q={phrase}", token=token)
        except urllib.error.HTTPError as exc:
            return exc.code
        return 200

    with ThreadPoolExecutor(max_workers=8) as pool:
        running = [pool.submit(search, n) for n in range(8)]
        started = time.monotonic()
        status, _, _ = call(f"{base}/healthz")
        healthz = time.monotonic() - started
        answers = [future.result() for future in running]
    assert status == 200 and healthz < 1.0
    assert answers == [422] * 8  # refused at once for its length, never searched
