"""查阅申请 (004 查阅与借阅, 保密管理): a finance clerk asks to read a contract, her department
head and then the head of sales approve, she reads it until the day she named and then no
more; a confidential contract needs the general manager too; the wrong person cannot decide;
a rejection ends a request. Through the API and through the pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from archive import access_requests, users
from archive.access import local_today, scope_of
from archive.actor import Actor
from archive.models import AccessRequest, AuditEntry, Contract
from schemas.labels import ACTION_NAMES

PASSWORD = "correct-horse-9"
API = "/api/v1/access-requests"
# login → (role, department, head, display name); the contracts are of 华东, the head of
# sales oversees 华北 (so that he, too, has contracts he cannot read).
PEOPLE = {
    "zhao": ("staff", "财务部", False, "赵会计"),
    "qian": ("staff", "财务部", True, "钱主管"),
    "sun": ("manager", "销售部", True, "孙总监"),
    "zhou": ("director", "总经理办公室", False, "周总"),
    "wu": ("clerk", "销售部", False, "吴业务员"),
    "zheng": ("staff", "仓储部", False, "郑库管"),
}
REGIONS = {"sun": "华北"}


@pytest.fixture
def people(archive, tokens) -> dict[str, str]:
    """The people of the story (beside one user per role): login → API token."""
    found = {}
    for name, (role, department, head, shown) in PEOPLE.items():
        _user, token = users.add_user(archive.catalogue, name, role, password=PASSWORD,
                                      display_name=shown, department=department,
                                      region=REGIONS.get(name), head=head)  # fmt: skip
        found[name] = token
    return found


@pytest.fixture
def as_(people, tokens):
    """Headers of a person (a login of the story, or a role of ``tokens``)."""

    def headers(who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {people.get(who) or tokens[who]}"}

    return headers


def today_of(archive) -> dt.date:
    with archive.catalogue.reading() as session:
        return local_today(session)


def actor_of(archive, name: str) -> Actor:
    return users.actor_of(users.by_name(archive.catalogue, name), "test")


def reads(archive, name: str, contract_no: str, today: dt.date | None = None) -> bool:
    """Whether the one visibility rule lets ``name`` read the contract (on ``today``)."""
    with archive.catalogue.reading() as session:
        contract = session.scalar(select(Contract).where(Contract.contract_no == contract_no))
        return scope_of(session, actor_of(archive, name), today=today).allows(contract)


def ask(client, as_, who, numbers, *, days=7, purpose="核对应收账款", archive=None, status=201):
    until = (today_of(archive) + dt.timedelta(days=days)).isoformat()
    response = client.post(API, json={"contract_nos": numbers, "purpose": purpose,
                                      "until": until}, headers=as_(who))  # fmt: skip
    assert response.status_code == status, response.get_json()
    return response


def decide(client, as_, who, request_id, what="approve", note=None, status=200):
    body = {} if note is None else {"note": note}
    response = client.post(f"{API}/{request_id}/{what}", json=body, headers=as_(who))
    assert response.status_code == status, response.get_json()
    return response.get_json()


def set_contract(archive, contract_no: str, **values) -> None:
    """Change a contract in the catalogue directly (its 密级, its retention state)."""
    with archive.catalogue.writing() as session:
        contract = session.scalar(select(Contract).where(Contract.contract_no == contract_no))
        for name, value in values.items():
            setattr(contract, name, value)


# -- the story ----------------------------------------------------------------------------------


def test_a_finance_clerk_asks_two_heads_approve_she_reads_for_a_while_then_cannot(
    client, archive, as_, create
):
    x = create()["contract_no"]
    y = create()["contract_no"]
    assert client.get(f"/api/v1/contracts/{x}", headers=as_("zhao")).status_code == 404

    response = ask(client, as_, "zhao", [x], purpose="核对 11 月应收账款", archive=archive)
    made = response.get_json()
    assert response.headers["Location"].endswith(f"{API}/{made['id']}")
    assert made["url"] == response.headers["Location"]
    assert made["state"] == "pending" and made["state_name"] == "审批中"
    assert [s["step"] for s in made["steps"]] == ["department", "sales"]
    assert made["steps"][0]["name"] == "财务部负责人"
    assert made["current_step"] == "department"
    assert made["waiting_for"] == ["钱主管（qian）"]
    assert made["requester_name"] == "赵会计（zhao）"

    # Nothing opens while the request waits.
    assert client.get(f"/api/v1/contracts/{x}", headers=as_("zhao")).status_code == 404
    decided = decide(client, as_, "qian", made["id"], note="同意，限核对账款")
    assert decided["state"] == "pending" and decided["current_step"] == "sales"
    assert decided["steps"][0]["by_name"] == "钱主管（qian）"
    assert decided["steps"][0]["decision"] == "approved"
    assert decided["waiting_for"] == ["孙总监（sun）"]
    assert client.get(f"/api/v1/contracts/{x}", headers=as_("zhao")).status_code == 404

    decided = decide(client, as_, "sun", made["id"])
    assert decided["state"] == "approved" and decided["decided_at"]
    assert decided["current_step"] is None and not decided["expired"]

    shown = client.get(f"/api/v1/contracts/{x}?purpose=核对应收", headers=as_("zhao"))
    assert shown.status_code == 200, shown.get_json()
    pdf = shown.get_json()["documents"][0]["pdf"]["url"]
    download = client.get(f"{pdf}?purpose=核对应收", headers=as_("zhao"))
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    # …and nothing else.
    assert client.get(f"/api/v1/contracts/{y}", headers=as_("zhao")).status_code == 404
    assert reads(archive, "zhao", x) and not reads(archive, "zhao", y)

    # The last day she named is still hers; the day after, the request opens nothing.
    until = dt.date.fromisoformat(made["until"])
    assert reads(archive, "zhao", x, today=until)
    assert not reads(archive, "zhao", x, today=until + dt.timedelta(days=1))
    with archive.catalogue.writing() as session:
        session.get(AccessRequest, made["id"]).until = today_of(archive) - dt.timedelta(days=1)
    assert client.get(f"/api/v1/contracts/{x}", headers=as_("zhao")).status_code == 404
    later = client.get(f"{API}/{made['id']}", headers=as_("zhao")).get_json()
    assert later["state"] == "approved" and later["expired"] and later["state_name"] == "已过期"

    with archive.catalogue.reading() as session:
        actions = list(session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"access_request:{made['id']}")
            .order_by(AuditEntry.id)))  # fmt: skip
    assert actions == ["access_request.create", "access_request.approve",
                       "access_request.approve"]  # fmt: skip
    assert all(action in ACTION_NAMES for action in actions)


def test_a_confidential_contract_needs_the_general_manager(client, archive, as_, create):
    plain, secret = create()["contract_no"], create()["contract_no"]
    set_contract(archive, secret, confidential=True)
    made = ask(client, as_, "zhao", [plain, secret], archive=archive).get_json()
    assert [s["step"] for s in made["steps"]] == ["department", "sales", "director"]

    decide(client, as_, "qian", made["id"])
    decided = decide(client, as_, "sun", made["id"])
    # The two heads are not enough: the request waits for the general manager.
    assert decided["state"] == "pending" and decided["current_step"] == "director"
    assert decided["waiting_for"] == ["周总（zhou）"]
    assert not reads(archive, "zhao", plain) and not reads(archive, "zhao", secret)
    waiting = client.get(f"{API}?waiting=true", headers=as_("zhou")).get_json()
    assert [r["id"] for r in waiting["items"]] == [made["id"]] and waiting["total"] == 1
    # An administrator runs the system; they do not grant business access.
    decide(client, as_, "admin", made["id"], status=404)

    assert decide(client, as_, "zhou", made["id"])["state"] == "approved"
    assert reads(archive, "zhao", plain) and reads(archive, "zhao", secret)
    assert client.get(f"/api/v1/contracts/{secret}", headers=as_("zhao")).status_code == 200


def test_without_the_directors_approval_a_request_opens_no_confidential_contract(
    client, archive, as_, create
):
    """Marked confidential after the request was approved: the heads' approval does not
    reach it (archive.access reads the director's step)."""
    number = create()["contract_no"]
    made = ask(client, as_, "zhao", [number], archive=archive).get_json()
    decide(client, as_, "qian", made["id"])
    decide(client, as_, "sun", made["id"])
    assert reads(archive, "zhao", number)
    set_contract(archive, number, confidential=True)
    assert not reads(archive, "zhao", number)


# -- who decides ----------------------------------------------------------------------------------


def test_only_whoever_fits_the_current_step_decides(client, archive, as_, create):
    number = create()["contract_no"]
    made = ask(client, as_, "zhao", [number], archive=archive).get_json()
    rid = made["id"]
    # The head of sales comes second; the general manager sees every request but is no step.
    assert "钱主管" in decide(client, as_, "sun", rid, status=403)["message"]
    decide(client, as_, "zhou", rid, status=403)
    # The requester cannot approve her own request.
    decide(client, as_, "zhao", rid, status=403)
    # Those who take no part in it do not even learn it exists; the archive office neither
    # (a request names contracts, confidential ones too).
    for stranger in ("wu", "zheng", "admin", "manager", "archivist"):
        decide(client, as_, stranger, rid, status=404)
        assert client.get(f"{API}/{rid}", headers=as_(stranger)).status_code == 404
    # The general manager reads every request.
    assert client.get(f"{API}/{rid}", headers=as_("zhou")).status_code == 200

    decide(client, as_, "qian", rid)
    decide(client, as_, "qian", rid, status=403)  # her step is done
    # An approval's note may be left out, the body too.
    approved = client.post(f"{API}/{rid}/approve", headers=as_("sun"))
    assert approved.status_code == 200 and approved.get_json()["state"] == "approved"
    decide(client, as_, "sun", rid, status=409)  # the request is decided


def test_a_rejection_ends_the_request(client, archive, as_, create):
    number = create()["contract_no"]
    rid = ask(client, as_, "zhao", [number], archive=archive).get_json()["id"]
    missing = client.post(f"{API}/{rid}/reject", json={}, headers=as_("qian"))
    assert missing.status_code == 422 and "note" in missing.get_json()["errors"]
    rejected = decide(client, as_, "qian", rid, "reject", note="用途不明")
    assert rejected["state"] == "rejected" and rejected["state_name"] == "已驳回"
    assert rejected["steps"][0]["note"] == "用途不明"
    assert rejected["steps"][1]["decision"] is None
    decide(client, as_, "sun", rid, status=409)
    assert not reads(archive, "zhao", number)
    assert client.get(f"{API}?waiting=true", headers=as_("sun")).get_json()["items"] == []


def test_the_requester_may_withdraw_a_pending_request(client, archive, as_, create):
    number = create()["contract_no"]
    rid = ask(client, as_, "zhao", [number], archive=archive).get_json()["id"]
    assert client.post(f"{API}/{rid}/withdraw", headers=as_("qian")).status_code == 403
    assert client.post(f"{API}/{rid}/withdraw", headers=as_("wu")).status_code == 404
    withdrawn = client.post(f"{API}/{rid}/withdraw", headers=as_("zhao"))
    assert withdrawn.status_code == 200 and withdrawn.get_json()["state"] == "withdrawn"
    assert client.post(f"{API}/{rid}/withdraw", headers=as_("zhao")).status_code == 409
    decide(client, as_, "qian", rid, status=409)


# -- the chain ----------------------------------------------------------------------------------


def test_the_chain_depends_on_who_asks_and_what(client, archive, as_, create):
    number = create()["contract_no"]
    steps = {}
    # The head of finance skips her own step; a salesperson's head already is the head of
    # sales; the head of sales has nobody above but the general manager.
    for who in ("qian", "wu", "sun"):
        made = ask(client, as_, who, [number], archive=archive).get_json()
        steps[who] = [(s["step"], s.get("department")) for s in made["steps"]]
    assert steps == {"qian": [("sales", None)], "wu": [("department", "销售部")],
                     "sun": [("director", None)]}  # fmt: skip

    actor = Actor("x", "staff", department="法务部")
    assert [s["step"] for s in access_requests.chain(actor, confidential=True)] == [
        "department", "sales", "director"]  # fmt: skip


def test_a_request_nobody_could_approve_is_refused(client, archive, as_, create):
    number = create()["contract_no"]
    response = ask(client, as_, "zheng", [number], archive=archive, status=409)
    assert "仓储部负责人" in response.get_json()["message"]


def test_what_cannot_be_asked_for(client, archive, as_, create):
    mine_no = create()["contract_no"]  # the clerk's own contract
    number = create()["contract_no"]
    today = today_of(archive)

    def refused(body, field, who="zhao"):
        full = {"contract_nos": [number], "purpose": "核对", "until": today.isoformat(), **body}
        response = client.post(API, json=full, headers=as_(who))
        assert response.status_code == 422, response.get_json()
        assert field in response.get_json()["errors"], response.get_json()
        return " ".join(response.get_json()["errors"][field])

    # A number that names no contract is not told apart from one she may not see: accepted,
    # it opens nothing.
    unknown = {"contract_nos": [number, "HT-1999-0001"], "purpose": "核对",
               "until": today.isoformat()}  # fmt: skip
    assert client.post(API, json=unknown, headers=as_("zhao")).status_code == 201
    assert "重复" in refused({"contract_nos": [number, number]}, "contract_nos")
    refused({"contract_nos": []}, "contract_nos")
    refused({"contract_nos": [f"N-{i}" for i in range(51)]}, "contract_nos")
    assert "无需申请" in refused({"contract_nos": [mine_no]}, "contract_nos", who="clerk")
    refused({"purpose": "  "}, "purpose")
    refused({"purpose": "字" * 501}, "purpose")
    refused({"until": (today - dt.timedelta(days=1)).isoformat()}, "until")
    assert "90" in refused({"until": (today + dt.timedelta(days=91)).isoformat()}, "until")
    refused({"extra": 1}, "extra")

    # Nor is a destroyed contract told apart from any other she may not see.
    set_contract(archive, number, retention_state="destroyed")
    gone = {"contract_nos": [number], "purpose": "核对", "until": today.isoformat()}
    assert client.post(API, json=gone, headers=as_("zhao")).status_code == 201
    # The last allowed day is accepted.
    ask(client, as_, "zhao", [mine_no], days=90, archive=archive)


def test_the_lists_mine_and_waiting_for_me(client, archive, as_, create):
    first, second = create()["contract_no"], create()["contract_no"]
    a = ask(client, as_, "zhao", [first], archive=archive).get_json()["id"]
    b = ask(client, as_, "zhao", [second], archive=archive).get_json()["id"]
    mine = client.get(API, headers=as_("zhao")).get_json()
    assert [r["id"] for r in mine["items"]] == [b, a] and mine["total"] == 2
    paged = client.get(f"{API}?mine=true&per_page=1&page=2", headers=as_("zhao")).get_json()
    assert [r["id"] for r in paged["items"]] == [a] and paged["total"] == 2

    waiting = client.get(f"{API}?waiting=true", headers=as_("qian")).get_json()
    assert [r["id"] for r in waiting["items"]] == [a, b]
    assert client.get(f"{API}?waiting=true", headers=as_("sun")).get_json()["total"] == 0
    decide(client, as_, "qian", a)
    assert [r["id"] for r in client.get(f"{API}?waiting=true", headers=as_("sun"))
            .get_json()["items"]] == [a]  # fmt: skip
    assert client.get(f"{API}?waiting=true", headers=as_("zhao")).get_json()["total"] == 0
    both = client.get(f"{API}?mine=true&waiting=true", headers=as_("zhao"))
    assert both.status_code == 422
    assert client.get(API).status_code == 401


def test_the_endpoints_are_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert {"post", "get"} <= set(paths[API])
    for action in ("approve", "reject", "withdraw"):
        assert "post" in paths[f"{API}/{{request_id}}/{action}"]
    assert "AccessRequestView" in spec["components"]["schemas"]


# -- the pages ----------------------------------------------------------------------------------


def signed_in(app, name: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": name, "password": PASSWORD,
                                           "csrf": token})  # fmt: skip
    assert response.status_code == 302
    return client


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_the_pages_ask_approve_and_show_the_steps(app, archive, people, create):
    number = create()["contract_no"]
    zhao = signed_in(app, "zhao")
    form = zhao.get(f"/access-requests/new?contract_no={number}")
    text = form.get_data(as_text=True)
    assert form.status_code == 200 and "申请查阅" in text and number in text
    assert "待我审批" not in text  # she heads nothing
    until = (today_of(archive) + dt.timedelta(days=7)).isoformat()

    for numbers, purpose, field in ((number, "", "purpose"), ("", "核对", "contract_nos")):
        wrong = zhao.post("/access-requests/new", data={
            "csrf": csrf_of(text), "contract_nos": numbers, "purpose": purpose,
            "until": until})  # fmt: skip
        assert wrong.status_code == 422
        assert f'data-error-for="{field}"' in wrong.get_data(as_text=True)

    sent = zhao.post("/access-requests/new", data={
        "csrf": csrf_of(text), "contract_nos": f"{number}\n", "purpose": "核对应收账款",
        "until": until})  # fmt: skip
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/access-requests")
    mine = zhao.get("/access-requests").get_data(as_text=True)
    for words in ("审批中", "财务部负责人", "钱主管", "核对应收账款"):
        assert words in mine
    rid = zhao.get("/api/v1/access-requests", headers={"Authorization": f"Bearer {people['zhao']}"}
                   ).get_json()["items"][0]["id"]  # fmt: skip

    qian = signed_in(app, "qian")
    waiting = qian.get("/access-requests/waiting").get_data(as_text=True)
    assert f"查阅申请 {rid}" in waiting and "赵会计" in waiting and "待我审批" in waiting
    refused = qian.post(f"/access-requests/{rid}/reject", data={"csrf": csrf_of(waiting)},
                        follow_redirects=True)  # fmt: skip
    assert "驳回须说明理由" in refused.get_data(as_text=True)
    approved = qian.post(f"/access-requests/{rid}/approve",
                         data={"csrf": csrf_of(waiting), "note": "同意"},
                         follow_redirects=True)  # fmt: skip
    page = approved.get_data(as_text=True)
    assert f"已同意查阅申请 {rid}" in page and "没有等待您审批的查阅申请" in page

    sun = signed_in(app, "sun")
    waiting = sun.get("/access-requests/waiting").get_data(as_text=True)
    assert f"查阅申请 {rid}" in waiting and "同意" in waiting
    sun.post(f"/access-requests/{rid}/approve", data={"csrf": csrf_of(waiting)})

    mine = zhao.get("/access-requests").get_data(as_text=True)
    assert "已批准" in mine and f'href="/contracts/{number}"' in mine
    assert "撤回申请" not in mine
    assert reads(archive, "zhao", number)


def test_the_requester_withdraws_from_her_page(app, archive, people, create):
    number = create()["contract_no"]
    made = access_requests.create(archive, actor_of(archive, "zhao"), [number], "核对",
                                  today_of(archive))  # fmt: skip
    zhao = signed_in(app, "zhao")
    page = zhao.get("/access-requests").get_data(as_text=True)
    assert "撤回申请" in page
    done = zhao.post(f"/access-requests/{made.id}/withdraw", data={"csrf": csrf_of(page)},
                     follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert f"已撤回查阅申请 {made.id}" in done and "已撤回" in done
    # Someone else's request: the same answer as for one that does not exist.
    wu = signed_in(app, "wu")
    other = wu.post(f"/access-requests/{made.id}/withdraw",
                    data={"csrf": csrf_of(wu.get("/access-requests").get_data(as_text=True))},
                    follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert f"查阅申请 {made.id} 不存在" in other
