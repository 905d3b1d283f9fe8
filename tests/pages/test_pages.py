"""Sign-in, sessions and CSRF, checked without a browser."""

from __future__ import annotations

import re

from archive import users

PASSWORD = "correct-horse-9"


def login(client, name="li"):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": name, "password": PASSWORD, "csrf": token})


def test_sign_in_sets_a_safe_session_cookie(client, archive):
    users.add_user(archive.catalogue, "li", "clerk", password=PASSWORD)
    response = login(client)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/contracts").status_code == 200


def test_a_wrong_password_is_refused(client, archive):
    users.add_user(archive.catalogue, "li", "clerk", password=PASSWORD)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": "li", "password": "nope", "csrf": token})
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.get_data(as_text=True)


def test_forms_without_the_csrf_token_are_refused(client, archive):
    users.add_user(archive.catalogue, "li", "clerk", password=PASSWORD)
    assert client.post("/login", data={"username": "li", "password": PASSWORD}).status_code == 400
    login(client)
    response = client.post("/contracts/new", data={"region": "华东"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_pages_need_a_session_and_the_right_role(client, archive):
    assert client.get("/contracts").status_code == 302
    users.add_user(archive.catalogue, "li", "clerk", password=PASSWORD)
    login(client)
    assert client.get("/retention").status_code == 403
    assert client.get("/access-log").status_code == 403


def test_users_passwd_sets_a_password_from_the_cli(runner, client, archive):
    from service.cli import main

    users.add_user(archive.catalogue, "li", "clerk")
    result = runner.invoke(main, ["users", "passwd", "li", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert login(client).status_code == 302
    short = runner.invoke(main, ["users", "passwd", "li", "--password", "short"])
    assert short.exit_code == 2
