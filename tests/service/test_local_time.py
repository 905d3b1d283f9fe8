"""Times are stored in UTC and shown in the local time of HETONG_TIMEZONE (Beijing time by
default) with the zone named; people are shown by their display name, their login at hand.
The JSON API gives every time in UTC, ISO 8601 with its offset."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from archive import users
from archive.actor import Actor
from archive.audit import record
from archive.models import AuditEntry, Destruction
from service import config
from service.cli import main
from tests.helpers import pdf_text

BEIJING = ZoneInfo("Asia/Shanghai")
PASSWORD = "correct-horse-9"


def sign_in(client, name):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": name, "password": PASSWORD, "csrf": token})
    page = client.get("/contracts").get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def local(at: dt.datetime, zone=BEIJING) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def entries(archive, action):
    with archive.catalogue.reading() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_user_has_a_display_name_that_defaults_to_the_login(runner, archive):
    added = runner.invoke(main, ["users", "add", "wang", "--role", "manager",
                                 "--display-name", "王经理"])  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "王经理（wang）" in added.output
    assert runner.invoke(main, ["users", "add", "li", "--role", "clerk"]).exit_code == 0
    assert users.by_name(archive.catalogue, "li").display_name == "li"

    renamed = runner.invoke(main, ["users", "update", "wang", "--display-name", "王建国"])
    assert renamed.exit_code == 0, renamed.output
    assert users.by_name(archive.catalogue, "wang").display_name == "王建国"
    listed = runner.invoke(main, ["users", "list"]).output.splitlines()
    li, wang = (users.by_name(archive.catalogue, name) for name in ("li", "wang"))
    place = "销售部\t—\t—\t在用"  # department, region, head, active
    assert listed == [f"li\tli\t销售业务员\t{place}\t{local(li.created_at)}（北京时间）",
                      f"wang\t王建国\t销售经理\t{place}"
                      f"\t{local(wang.created_at)}（北京时间）"]  # fmt: skip

    missing = runner.invoke(main, ["users", "update", "nobody", "--display-name", "某人"])
    assert missing.exit_code == 3
    blank = runner.invoke(main, ["users", "update", "wang", "--display-name", "\u202e"])
    assert blank.exit_code == 2


def test_the_dossier_shows_beijing_time_and_the_managers_name(client, archive, create):
    users.add_user(archive.catalogue, "wang", "manager", password=PASSWORD,
                   display_name="王经理")  # fmt: skip
    users.set_display_name(archive.catalogue, "clerk-user", "李明")  # the contract's owner
    number = create()["contract_no"]
    token = sign_in(client, "wang")
    client.post(f"/contracts/{number}/status", data={"csrf": token, "status": "effective"})
    page = client.get(f"/contracts/{number}").get_data(as_text=True)

    approval = entries(archive, "contract.status")[0]
    assert "UTC" not in page
    assert "时间（北京时间）" in page
    assert f"<td>{local(approval.at)}</td>" in page
    assert re.search(r'<span title="[^"]*wang[^"]*">王经理</span>', page)
    assert "王经理（销售经理）" in page  # who is signed in
    assert re.search(r'<dt>负责人</dt><dd><span title="[^"]*clerk-user[^"]*">李明</span>', page)
    assert "<dd>clerk-user</dd>" not in page and ">wang<" not in page


def test_the_access_log_shows_beijing_time_and_filters_by_beijing_days(
    client, auth, archive, create
):
    users.add_user(archive.catalogue, "zhou", "archivist", password=PASSWORD,
                   display_name="周档案")  # fmt: skip
    number = create()["contract_no"]
    sign_in(client, "zhou")
    page = client.get(f"/contracts/{number}").get_data(as_text=True)
    link = re.search(rf'href="(/contracts/{number}/documents/\d+)"', page).group(1)
    asked = client.get(link)  # first: why? (no file yet, nothing registered)
    assert asked.status_code == 200 and 'name="purpose"' in asked.get_data(as_text=True)
    assert entries(archive, "document.download") == []
    assert client.get(link, query_string={"purpose": "核对条款"}).status_code == 200
    (retrieval,) = entries(archive, "document.download")
    assert retrieval.note == "核对条款"

    log = client.get("/access-log").get_data(as_text=True)
    assert "UTC" not in log and "北京时间" in log
    assert local(retrieval.at) in log
    assert re.search(r'<span title="[^"]*zhou[^"]*">周档案</span>', log)

    # 2026-11-24 17:30 UTC is 2026-11-25 01:30 in Beijing: it belongs to the 25th.
    late = dt.datetime(2026, 11, 24, 17, 30, tzinfo=dt.UTC)
    with archive.catalogue.writing() as session:
        record(session, Actor("zhou", "archivist"), "document.download", "HT-202611-9999")
    with archive.catalogue.writing() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.target == "HT-202611-9999"))
        entry.one().at = late

    def found(**days):
        body = client.get("/api/v1/access-log", query_string={"contract_no": "HT-202611-9999",
                          **days}, headers=auth("archivist")).get_json()  # fmt: skip
        return [e["at"] for e in body["items"]]

    assert found(**{"from": "2026-11-25", "to": "2026-11-25"}) == ["2026-11-24T17:30:00+00:00"]
    assert found(to="2026-11-24") == []


def test_the_api_gives_every_time_in_utc_with_its_offset(client, auth, create):
    contract = create()
    assert contract["created_at"].endswith("+00:00")
    assert contract["documents"][0]["created_at"].endswith("+00:00")
    ran = client.post("/api/v1/retention/runs", json={"dry_run": True}, headers=auth("archivist"))
    assert ran.status_code == 201, ran.get_json()
    listed = client.get("/api/v1/retention/runs", headers=auth("archivist")).get_json()
    assert listed["items"][0]["started_at"].endswith("+00:00")


def test_another_time_zone_is_shown_by_its_offset(settings, payload):
    from service import create_app

    app = create_app({**settings, "TIMEZONE": "America/New_York"})
    archive = app.extensions["hetong.archive"]
    try:
        _, token = users.add_user(archive.catalogue, "wang", "manager", password=PASSWORD)
        client = app.test_client()
        created = client.post("/api/v1/contracts", json=payload,
                              headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        number = created.get_json()["contract_no"]
        sign_in(client, "wang")
        page = client.get(f"/contracts/{number}").get_data(as_text=True)
        created = entries(archive, "contract.create")[0]
        assert "时间（UTC-05:00）" in page
        assert f"<td>{local(created.at, ZoneInfo('America/New_York'))}</td>" in page
    finally:
        archive.close()


def test_an_unknown_time_zone_is_refused_at_start():
    with pytest.raises(ValueError, match="Mars/Olympus"):
        config.load({"TIMEZONE": "Mars/Olympus"}, environ={})
    assert config.load(environ={})["TIMEZONE"] == "Asia/Shanghai"


def test_the_destruction_certificate_and_the_register_name_the_manager_and_beijing_time(
    client, auth, archive, payload
):
    _, token = users.add_user(archive.catalogue, "wang", "manager", display_name="王经理")
    manager = {"Authorization": f"Bearer {token}"}
    payload["signed_on"] = "2020-03-15"
    payload["delivery"]["deadline"] = payload["payment"]["due_on"] = "2020-12-31"
    number = client.post("/api/v1/contracts", json=payload, headers=auth()).get_json()[
        "contract_no"]  # fmt: skip
    for body, who in (({"status": "effective"}, manager), ({"status": "terminated"}, auth())):
        if body["status"] == "terminated":
            paid = client.post(
                f"/api/v1/contracts/{number}/payments",
                headers=auth(),
                json={"amount": "382505.00", "paid_on": "2020-06-01", "method": "银行转账"},
            )
            assert paid.status_code == 201, paid.get_json()
        done = client.post(f"/api/v1/contracts/{number}/status", json=body, headers=who)
        assert done.status_code == 200, done.get_json()
    swept = client.post("/api/v1/retention/runs", json={"as_of": "2026-01-01"},
                        headers=auth("archivist"))  # fmt: skip
    assert swept.status_code == 201, swept.get_json()
    destroyed = client.post("/api/v1/retention/destructions", headers=manager,
                            json={"contract_nos": [number], "note": "到期销毁"})  # fmt: skip
    assert destroyed.status_code == 201, destroyed.get_json()

    with archive.catalogue.reading() as session:
        approved_at = session.scalars(select(Destruction)).one().approved_at
    certificate = client.get(f"/api/v1/retention/records/{destroyed.get_json()['certificate']}"
                             "/pdf", headers=manager)  # fmt: skip
    text = pdf_text(certificate.data).replace("\n", "")
    assert "经销售经理 王经理（wang）" in text
    assert f"批准时间：{local(approved_at)}（北京时间）" in text
    assert "UTC" not in text

    gone = client.get(f"/api/v1/contracts/{number}", headers=auth()).get_json()
    day = approved_at.astimezone(BEIJING).date().isoformat()
    assert f"已于 {day} 经 王经理（wang） 批准销毁" in gone["message"]
