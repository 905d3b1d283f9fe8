"""Lending (借阅, issue 11 item 6): an archivist lends a dossier with a due day, the dossier
shows 借出, a paper dossier is out once, loans past due are listed and chased by cron, an
electronic loan opens the contract to its borrower, and a return ends the loan."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from archive import access, loans, users
from archive.models import AuditEntry, Contract, Loan, utcnow
from service.cli import main
from tests.conftest import BOTH_DATABASES

pytestmark = BOTH_DATABASES

PASSWORD = "correct-horse-9"
PURPOSE = "核对应收账款"


@pytest.fixture
def today(archive) -> dt.date:
    """Today where the archive is (its loans' days are local days)."""
    return dt.datetime.now(archive.zone).date()


@pytest.fixture
def fang(archive) -> dict:
    """王芳, finance staff (职员, 财务部): outside every contract's scope of her own."""
    user, token = users.add_user(archive.catalogue, "fang", "staff", department="财务部",
                                 display_name="王芳", password=PASSWORD)  # fmt: skip
    return {"name": user.name, "headers": {"Authorization": f"Bearer {token}"}}


@pytest.fixture
def lend(client, auth, today):
    """POST /api/v1/loans as the archivist (a week, paper, by default); the response."""

    def _lend(contract_no: str, borrower: str = "fang", *, days: int = 7, role: str = "archivist",
              **fields):  # fmt: skip
        body = {"contract_no": contract_no, "borrower": borrower, "purpose": PURPOSE,
                "due_on": (today + dt.timedelta(days=days)).isoformat(), **fields}  # fmt: skip
        return client.post("/api/v1/loans", json=body, headers=auth(role))

    return _lend


def set_due(archive, loan_id: int, day: dt.date) -> None:
    """Move a loan's due day (the way to an overdue loan without waiting for one)."""
    with archive.catalogue.writing() as session:
        session.get(Loan, loan_id).due_on = day


def dossier(client, auth, number: str, role: str = "clerk") -> dict:
    response = client.get(f"/api/v1/contracts/{number}", headers=auth(role))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_archivist_lends_a_dossier_for_a_week_and_its_return_ends_the_loan(
    client, auth, create, fang, lend, today, archive
):
    number = create()["contract_no"]
    assert dossier(client, auth, number)["on_loan"] == []

    response = lend(number)
    assert response.status_code == 201, response.get_json()
    loan = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/loans/{loan['id']}")
    assert loan["url"] == f"/api/v1/loans/{loan['id']}"
    week = (today + dt.timedelta(days=7)).isoformat()
    assert {k: loan[k] for k in ("contract_no", "borrower", "borrower_name", "form", "due_on",
                                 "purpose", "lent_by", "open", "overdue", "returned_at")} == {
        "contract_no": number, "borrower": "fang", "borrower_name": "王芳", "form": "paper",
        "due_on": week, "purpose": PURPOSE, "lent_by": "archivist-user", "open": True,
        "overdue": False, "returned_at": None,
    }  # fmt: skip

    # The dossier shows 借出: to whom, until when.
    (out,) = dossier(client, auth, number)["on_loan"]
    assert out == {"id": loan["id"], "borrower": "fang", "borrower_name": "王芳",
                   "form": "paper", "due_on": week, "overdue": False}  # fmt: skip

    # The paper dossier is out: it cannot be lent again, and the answer says to whom.
    again = lend(number, "manager-user", days=3)
    assert again.status_code == 409
    assert "王芳（fang）" in again.get_json()["message"] and week in again.get_json()["message"]

    # Lending is a retrieval: the 查阅登记 lists it with its purpose.
    log = client.get(f"/api/v1/access-log?contract_no={number}", headers=auth("archivist"))
    lent = [e for e in log.get_json()["items"] if e["action"] == "loan.lend"]
    assert [(e["user"], e["purpose"], e["detail"]["borrower"]) for e in lent] == [
        ("archivist-user", PURPOSE, "fang")
    ]

    back = client.post(f"/api/v1/loans/{loan['id']}/return", json={"note": "完好"},
                       headers=auth("archivist"))  # fmt: skip
    assert back.status_code == 200, back.get_json()
    assert back.get_json()["returned_to"] == "archivist-user"
    assert back.get_json()["returned_at"] and back.get_json()["open"] is False
    assert "归还：完好" in back.get_json()["note"]
    assert dossier(client, auth, number)["on_loan"] == []
    twice = client.post(f"/api/v1/loans/{loan['id']}/return", headers=auth("archivist"))
    assert twice.status_code == 409 and "不能重复归还" in twice.get_json()["message"]

    # Back in the archive room, it can go out again.
    assert lend(number, "manager-user", days=3).status_code == 201
    with archive.catalogue.reading() as session:
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("loan.%")).order_by(AuditEntry.id)).all()  # fmt: skip
    assert actions == ["loan.lend", "loan.return", "loan.lend"]


def test_an_overdue_loan_is_listed_and_chased_until_it_is_returned(
    client, auth, create, fang, lend, today, archive, runner
):
    number = create()["contract_no"]
    loan = lend(number).get_json()
    assert client.get("/api/v1/loans?overdue=true", headers=auth("archivist")).get_json()[
        "total"] == 0  # fmt: skip
    none = runner.invoke(main, ["loans", "overdue"])
    assert none.exit_code == 0, none.output
    assert "没有逾期未还的借阅" in none.output
    # Judged as of a later day, the same loan is overdue (no waiting needed).
    later = (today + dt.timedelta(days=10)).isoformat()
    ahead = runner.invoke(main, ["loans", "overdue", "--as-of", later])
    assert ahead.exit_code == 1 and "逾期 3 天" in ahead.output

    set_due(archive, loan["id"], today - dt.timedelta(days=3))
    found = client.get("/api/v1/loans?overdue=true&open=true", headers=auth("archivist"))
    assert found.status_code == 200
    (item,) = found.get_json()["items"]
    assert (item["id"], item["overdue"], item["days_overdue"]) == (loan["id"], True, 3)
    assert dossier(client, auth, number)["on_loan"][0]["overdue"] is True

    chased = runner.invoke(main, ["loans", "overdue"])
    assert chased.exit_code == 1, chased.output
    line = next(x for x in chased.output.splitlines() if x.startswith(number))
    assert "王芳（fang）" in line and "纸质" in line and "逾期 3 天" in line
    assert (today - dt.timedelta(days=3)).isoformat() in line
    assert "共 1 件逾期未还" in chased.output
    listed = runner.invoke(main, ["loans", "list"])
    assert listed.exit_code == 0 and "逾期 3 天" in listed.output

    client.post(f"/api/v1/loans/{loan['id']}/return", headers=auth("archivist"))
    assert client.get("/api/v1/loans?overdue=true", headers=auth("archivist")).get_json()[
        "total"] == 0  # fmt: skip
    done = runner.invoke(main, ["loans", "overdue"])
    assert done.exit_code == 0, done.output
    assert "已归还" in runner.invoke(main, ["loans", "list", "--all"]).output
    assert "--as-of" in runner.invoke(main, ["loans", "overdue", "--help"]).output


def test_an_electronic_loan_lets_the_borrower_read_the_contract_until_it_ends(
    client, auth, create, fang, lend, archive
):
    number = create()["contract_no"]

    def reads() -> bool:
        with archive.catalogue.reading() as session:
            contract = session.scalar(select(Contract).where(Contract.contract_no == number))
            actor = users.actor_of(users.by_name(archive.catalogue, "fang"), "test")
            seen = access.scope_of(session, actor).allows(contract)
        answer = client.get(f"/api/v1/contracts/{number}", headers=fang["headers"]).status_code
        assert answer == (200 if seen else 404)  # the API obeys the same rule
        return seen

    assert not reads()
    paper = lend(number).get_json()
    assert not reads()  # the paper dossier is in her hands, not the archive's files
    client.post(f"/api/v1/loans/{paper['id']}/return", headers=auth("archivist"))

    loan = lend(number, form="electronic").get_json()
    assert loan["form"] == "electronic"
    assert reads()
    # She sees her own loans (the open one first), and only those.
    mine = client.get("/api/v1/loans", headers=fang["headers"]).get_json()
    assert [i["id"] for i in mine["items"]] == [loan["id"], paper["id"]]
    assert client.get(f"/api/v1/loans/{loan['id']}", headers=fang["headers"]).status_code == 200
    # One electronic loan of a contract at a time per person; the paper one is free.
    assert lend(number, form="electronic").status_code == 409
    assert lend(number, "manager-user").status_code == 201

    client.post(f"/api/v1/loans/{loan['id']}/return", headers=auth("archivist"))
    assert not reads()
    set_due_past = lend(number, form="electronic").get_json()
    set_due(archive, set_due_past["id"], dt.date(2000, 1, 1))
    assert not reads()  # past its due day it opens nothing, returned or not


def test_who_lends_and_who_sees_which_loans(client, auth, create, fang, lend, tokens):
    number = create()["contract_no"]
    assert lend(number, role="clerk").status_code == 403
    assert lend(number, role="manager").status_code == 403
    loan = lend(number).get_json()
    assert client.post(f"/api/v1/loans/{loan['id']}/return", headers=auth("clerk")).status_code \
        == 403  # fmt: skip

    for role in ("archivist", "manager", "admin"):
        seen = client.get("/api/v1/loans", headers=auth(role)).get_json()
        assert [i["id"] for i in seen["items"]] == [loan["id"]], role
    # The clerk owns the contract but borrowed nothing: a loan is the archive room's record.
    assert client.get("/api/v1/loans", headers=auth("clerk")).get_json()["total"] == 0
    assert client.get(f"/api/v1/loans/{loan['id']}", headers=auth("clerk")).status_code == 404
    assert client.get("/api/v1/loans/999999", headers=auth("archivist")).status_code == 404
    assert client.get("/api/v1/loans").status_code == 401
    filtered = client.get("/api/v1/loans?borrower=nobody", headers=auth("archivist"))
    assert filtered.get_json()["total"] == 0


def test_what_cannot_be_lent(client, auth, create, fang, lend, today, archive):
    number = create()["contract_no"]

    def refused(response, field: str) -> None:
        assert response.status_code == 422, response.get_json()
        assert field in response.get_json()["errors"], response.get_json()

    refused(lend(number, purpose=""), "purpose")
    refused(lend(number, purpose="   "), "purpose")
    refused(lend(number, days=-1), "due_on")
    refused(lend(number, days=91), "due_on")
    assert lend(number, days=90).status_code == 201
    refused(lend(number, "nobody"), "borrower")
    refused(lend(number, form="digital"), "form")
    refused(lend(number, due_on="next week"), "due_on")
    users.deactivate_user(archive.catalogue, "fang")
    refused(lend(number, form="electronic"), "borrower")
    refused(client.post("/api/v1/loans", json={}, headers=auth("archivist")), "contract_no")

    # A contract the archivist may not see is answered as one that does not exist.
    missing = lend("HT-209901-0001", "manager-user")
    assert missing.status_code == 404
    other = create()["contract_no"]
    with archive.catalogue.writing() as session:
        session.scalar(select(Contract).where(Contract.contract_no == other)).confidential = True
    hidden = lend(other, "manager-user")
    assert hidden.status_code == 404
    assert hidden.get_json()["message"] == f"合同 {other} 不存在。"

    # A destroyed contract is only its register entry: nothing to lend.
    third = create()["contract_no"]
    with archive.catalogue.writing() as session:
        row = session.scalar(select(Contract).where(Contract.contract_no == third))
        row.retention_state, row.destroyed_at, row.destroyed_by = "destroyed", utcnow(), "x"
    assert lend(third, "manager-user").status_code == 410


def test_the_domain_lists_the_overdue_for_the_chase(archive, create, fang, today):
    number = create()["contract_no"]
    archivist = users.actor_of(users.by_name(archive.catalogue, "archivist-user"), "test")
    loan = loans.lend(archive, archivist, number, "fang", today, "盘点")
    assert loans.overdue(archive, today) == []
    (late,) = loans.overdue(archive, today + dt.timedelta(days=1))
    assert (late["id"], late["days_overdue"], late["borrower_name"]) == (loan["id"], 1, "王芳")
    loans.return_loan(archive, archivist, loan["id"])
    assert loans.overdue(archive, today + dt.timedelta(days=1)) == []


# -- the page ---------------------------------------------------------------------------------


def sign_in(client, name: str) -> None:
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"username": name, "password": PASSWORD, "csrf": token})
    assert response.status_code == 302


def csrf(client, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).get_data(as_text=True))[1]


def test_the_lending_register_page(client, archive, create, fang, lend, today):
    number = create()["contract_no"]
    users.add_user(archive.catalogue, "zhang", "archivist", password=PASSWORD,
                   display_name="张档案")  # fmt: skip
    users.add_user(archive.catalogue, "li", "clerk", password=PASSWORD)
    sign_in(client, "li")
    assert client.get("/loans").status_code == 403
    client.post("/logout", data={"csrf": csrf(client, "/contracts")})

    sign_in(client, "zhang")
    page = client.get("/loans").get_data(as_text=True)
    assert "借阅登记" in page and "没有符合条件的借阅" in page and 'action="/loans"' in page
    assert "王芳（fang）" in page  # offered as a borrower

    token = csrf(client, "/loans")
    lent = client.post("/loans", data={"csrf": token, "contract_no": number, "borrower": "fang",
                                       "form": "paper", "purpose": PURPOSE,
                                       "due_on": (today + dt.timedelta(days=7)).isoformat()},
                       follow_redirects=True)  # fmt: skip
    assert lent.status_code == 200
    assert f"合同 {number} 的纸质卷宗已借给 王芳（fang）" in lent.get_data(as_text=True)
    shown = client.get(f"/contracts/{number}").get_data(as_text=True)
    assert 'id="on-loan"' in shown and "纸质卷宗借出" in shown and "王芳" in shown

    again = client.post("/loans", data={"csrf": token, "contract_no": number, "borrower": "fang",
                                        "purpose": PURPOSE, "form": "paper",
                                        "due_on": today.isoformat()})  # fmt: skip
    assert again.status_code == 409 and "归还后才能再借出" in again.get_data(as_text=True)
    bad = client.post("/loans", data={"csrf": token, "contract_no": number, "borrower": "fang",
                                      "form": "paper", "due_on": today.isoformat()})  # fmt: skip
    assert bad.status_code == 422 and "用途" in bad.get_data(as_text=True)

    (loan,) = archive_loans(archive)
    set_due(archive, loan, today - dt.timedelta(days=2))
    page = client.get("/loans").get_data(as_text=True)
    assert 'class="overdue"' in page and "逾期 2 天" in page
    assert "已逾期" in client.get(f"/contracts/{number}").get_data(as_text=True)

    back = client.post(f"/loans/{loan}/return", data={"csrf": token}, follow_redirects=True)
    assert "卷宗已归还" in back.get_data(as_text=True)
    assert 'id="on-loan"' not in client.get(f"/contracts/{number}").get_data(as_text=True)
    assert "已归还" in client.get("/loans?open=false").get_data(as_text=True)
    assert client.post(f"/loans/{loan}/return", data={}).status_code == 400  # no CSRF token


def archive_loans(archive) -> list[int]:
    with archive.catalogue.reading() as session:
        return list(session.scalars(select(Loan.id).order_by(Loan.id)))
