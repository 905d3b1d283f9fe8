"""An administrator manages people in the pages: adds a finance head, edits her, issues and
revokes tokens (a new one shown once), deactivates and enables her again."""

from __future__ import annotations

import re

import pytest

from archive import users

PASSWORD = "correct-horse-9"


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def sign_in(client, name: str) -> str:
    """Sign in; the CSRF token of the new session."""
    token = csrf_of(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": name, "password": PASSWORD, "csrf": token})
    return csrf_of(client.get("/contracts").get_data(as_text=True))


def api(client, token: str) -> int:
    return client.get("/api/v1/contracts", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.fixture
def admin(client, archive) -> str:
    users.add_user(archive.catalogue, "root", "admin", password=PASSWORD, display_name="系统管理员")
    return sign_in(client, "root")


def test_only_an_admin_sees_the_people_pages(client, archive):
    users.add_user(archive.catalogue, "li", "clerk", password=PASSWORD)
    sign_in(client, "li")
    assert client.get("/admin/users").status_code == 403
    assert 'href="/admin/users"' not in client.get("/contracts").get_data(as_text=True)


def test_an_admin_adds_edits_and_deactivates_a_person(client, archive, admin):
    listing = client.get("/admin/users")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert 'href="/admin/users"' in page and "系统管理员" in page and "总经理办公室" in page

    added = client.post("/admin/users", data={
        "csrf": admin, "name": "qian", "display_name": "钱会计", "role": "staff",
        "department": "财务部", "region": "", "head": "1", "password": PASSWORD})  # fmt: skip
    assert added.status_code == 201
    page = added.get_data(as_text=True)
    assert "只显示这一次" in page
    first = re.search(r'<code id="new-token">(ht_[^<]+)</code>', page).group(1)
    assert api(client, first) == 200
    qian = users.by_name(archive.catalogue, "qian")
    assert (qian.department, qian.is_head, qian.role) == ("财务部", True, "staff")

    edited = client.post("/admin/users/qian", data={
        "csrf": admin, "display_name": "钱主管", "role": "staff", "department": "财务部",
        "region": "", "password": ""})  # fmt: skip
    assert edited.status_code == 302
    shown = client.get("/admin/users/qian").get_data(as_text=True)
    assert "已保存 钱主管（qian）的资料" in shown and "初始令牌" in shown
    assert first not in shown  # a token is shown once only
    qian = users.by_name(archive.catalogue, "qian")
    assert (qian.display_name, qian.is_head) == ("钱主管", False)  # the box was left empty

    issued = client.post("/admin/users/qian/tokens", data={"csrf": admin, "days": "10",
                                                           "label": "报销系统"})  # fmt: skip
    assert issued.status_code == 201
    second = re.search(r'<code id="new-token">(ht_[^<]+)</code>', issued.get_data(as_text=True))
    second = second.group(1)
    assert api(client, second) == 200
    row = users.list_tokens(archive.catalogue, "qian")[1]
    assert row.label == "报销系统"

    revoked = client.post(f"/admin/users/qian/tokens/{row.id}/revoke", data={"csrf": admin})
    assert revoked.status_code == 302
    assert api(client, second) == 401 and api(client, first) == 200
    shown = client.get("/admin/users/qian").get_data(as_text=True)
    assert re.search(r'由 <span title="登录名：root">系统管理员</span> 撤销', shown)

    stopped = client.post("/admin/users/qian/deactivate", data={"csrf": admin})
    assert stopped.status_code == 302
    assert api(client, first) == 401
    assert "已停用" in client.get("/admin/users").get_data(as_text=True)
    assert client.post("/admin/users/qian/activate", data={"csrf": admin}).status_code == 302
    assert api(client, first) == 200


def test_a_wrong_form_is_shown_again_with_the_field_named(client, archive, admin):
    wrong = client.post("/admin/users", data={
        "csrf": admin, "name": "zhao", "role": "staff", "department": "财务部",
        "region": "华东", "password": "short"})  # fmt: skip
    assert wrong.status_code == 422
    page = wrong.get_data(as_text=True)
    assert "销售区域" in page and "只有销售部人员有销售区域" in page
    assert 'value="zhao"' in page
    assert users.by_name(archive.catalogue, "zhao") is None

    too_long = client.post("/admin/users/root/tokens", data={"csrf": admin, "days": "400"})
    assert too_long.status_code == 422
    assert "有效期（天）：令牌有效期须为 1–365 天" in too_long.get_data(as_text=True)


def test_an_admin_cannot_deactivate_themself(client, archive, admin):
    refused = client.post("/admin/users/root/deactivate", data={"csrf": admin},
                          follow_redirects=True)  # fmt: skip
    assert "不能停用自己的账户" in refused.get_data(as_text=True)
    assert users.by_name(archive.catalogue, "root").active
    assert client.get("/admin/users/nobody").status_code == 404


def test_forms_need_the_csrf_token(client, archive, admin):
    assert client.post("/admin/users", data={"name": "x", "role": "clerk"}).status_code == 400
