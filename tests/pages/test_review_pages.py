"""The review chain on the pages: the clerk submits, the reviewer finds the draft in 待办,
sees the buyer's credit and returns it; after approval the manager's 同意 needs the override
when the rules say so, and the contract page says whether the signed copy is back."""

from __future__ import annotations

import re

import pytest

from archive import users
from service import create_app
from tests.pages.test_dossier_forms import PASSWORD, sign_in


@pytest.fixture
def app(settings):
    app = create_app({**settings, "REVIEW_STEPS": ["合同审核", "销售经理"], "SIGNED_COPY_DAYS": 0})
    yield app
    app.extensions["hetong.archive"].close()


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def as_person(client, name: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    signed = client.post("/login", data={"username": name, "password": PASSWORD,
                                         "csrf": csrf(page)})  # fmt: skip
    assert signed.status_code == 302


def test_a_draft_is_submitted_returned_and_approved_on_the_pages(client, archive, create):
    number = create()["contract_no"]
    users.add_user(archive.catalogue, "shen", "staff", department="财务部", password=PASSWORD,
                   display_name="沈审核")  # fmt: skip
    users.set_duties(archive.catalogue, "shen", ["合同审核"])
    users.add_user(archive.catalogue, "wang", "manager", password=PASSWORD, display_name="王经理")
    sign_in(client, archive)
    page = client.get(f"/contracts/{number}").get_data(as_text=True)
    assert "提交审批" in page and "审批生效" not in page
    sent = client.post(f"/contracts/{number}/review",
                       data={"csrf": csrf(page), "decision": "submitted"})  # fmt: skip
    assert sent.status_code == 302

    as_person(client, "shen")
    todo = client.get("/tasks").get_data(as_text=True)
    assert number in todo and "待审批（合同审核）" in todo
    page = client.get(f"/contracts/{number}").get_data(as_text=True)
    assert 'id="credit-check"' in page and "没有逾期未收的合同" in page and 'id="decide"' in page
    back = client.post(f"/contracts/{number}/review", data={
        "csrf": csrf(page), "decision": "returned", "note": "付款期限与客户资信不符"})  # fmt: skip
    assert back.status_code == 302 and back.location.endswith("/tasks")  # no longer hers

    sign_in(client, archive)
    todo = client.get("/tasks").get_data(as_text=True)
    assert "退回修改" in todo and "付款期限与客户资信不符" in todo
    page = client.get(f"/contracts/{number}").get_data(as_text=True)
    assert "重新提交审批" in page
    client.post(f"/contracts/{number}/review", data={"csrf": csrf(page), "decision": "submitted"})
    as_person(client, "shen")
    page = client.get(f"/contracts/{number}").get_data(as_text=True)
    client.post(f"/contracts/{number}/review", data={"csrf": csrf(page), "decision": "approved"})

    as_person(client, "wang")
    page = client.get(f"/contracts/{number}").get_data(as_text=True)
    assert "同意（合同生效）" in page
    done = client.post(f"/contracts/{number}/review",
                       data={"csrf": csrf(page), "decision": "approved"})  # fmt: skip
    assert done.status_code == 302
    page = client.get(f"/contracts/{number}").get_data(as_text=True)
    assert "已生效" in page and "未回签" in page
    assert number in client.get("/tasks").get_data(as_text=True)  # 待回签, for the manager


def test_an_administrator_gives_a_person_a_review_duty(client, archive):
    users.add_user(archive.catalogue, "root", "admin", password=PASSWORD)
    users.add_user(archive.catalogue, "shen", "staff", department="财务部")
    as_person(client, "root")
    page = client.get("/admin/users/shen").get_data(as_text=True)
    assert 'value="合同审核"' in page and 'value="销售经理"' not in page  # managers by role
    saved = client.post("/admin/users/shen/duties",
                        data={"csrf": csrf(page), "duty": ["合同审核", "销售经理"]})  # fmt: skip
    assert saved.status_code == 302
    assert users.by_name(archive.catalogue, "shen").duties == ["合同审核"]
    assert "已保存" in client.get("/admin/users/shen").get_data(as_text=True)
