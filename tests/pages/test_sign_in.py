"""Sign-in hardening: sessions end with deactivation and a new password, repeated failures
make the next attempt wait (refused at once, never held), and ``next=`` stays on the site."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from archive import users
from archive.models import SignInFailure

PASSWORD = "correct-horse-9"


def csrf(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def login(client, name="li", password=PASSWORD, query=""):
    return client.post(f"/login{query}", data={"username": name, "password": password,
                                               "csrf": csrf(client)})  # fmt: skip


def earlier(archive, by: dt.timedelta) -> None:
    """Time passes for the recorded failures (they are moved back; the test never sleeps)."""
    with archive.catalogue.writing() as session:
        for failure in session.scalars(select(SignInFailure)):
            failure.at -= by


@pytest.fixture
def li(archive):
    users.add_user(archive.catalogue, "root", "admin")
    users.add_user(archive.catalogue, "li", "clerk", password=PASSWORD)
    return "li"


def test_the_session_ends_when_the_user_is_deactivated(client, archive, li):
    assert login(client).status_code == 302
    assert client.get("/contracts").status_code == 200
    users.deactivate_user(archive.catalogue, li)
    gone = client.get("/contracts")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    # Being enabled again does not bring the old session back.
    users.reactivate_user(archive.catalogue, li)
    assert client.get("/contracts").status_code == 302
    assert login(client).status_code == 302


def test_the_session_ends_when_the_password_changes(client, archive, li):
    login(client)
    assert client.get("/contracts").status_code == 200
    users.set_password(archive.catalogue, li, "another-horse-1")
    assert client.get("/contracts").status_code == 302
    assert login(client).status_code == 401
    assert login(client, password="another-horse-1").status_code == 302
    assert client.get("/contracts").status_code == 200


def test_a_deactivated_person_cannot_sign_in(client, archive, li):
    users.deactivate_user(archive.catalogue, li)
    refused = login(client)
    assert refused.status_code == 403
    assert "账户已停用" in refused.get_data(as_text=True)


def test_five_wrong_passwords_make_the_right_one_wait(client, archive, li):
    for _ in range(5):
        wrong = login(client, password="wrong-password")
        assert wrong.status_code == 401
    waiting = login(client)
    page = waiting.get_data(as_text=True)
    assert waiting.status_code == 429
    assert "登录失败次数过多，请等待 30 秒后再试" in page
    assert waiting.headers["Retry-After"] == "30"
    assert client.get("/contracts").status_code == 302  # not signed in

    # A quarter of an hour later (the failures moved back in the catalogue, no sleeping).
    earlier(archive, dt.timedelta(minutes=16))
    assert login(client).status_code == 302
    assert client.get("/contracts").status_code == 200


def test_the_delay_grows_with_each_further_failure(client, archive, li):
    for _ in range(5):
        login(client, password="wrong-password")
    earlier(archive, dt.timedelta(seconds=31))  # the 30 s have passed
    assert login(client, password="wrong-again").status_code == 401
    assert "等待 60 秒" in login(client).get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "https://evil.example", "/\\evil.example", "\\\\evil.example",
     "/\t/evil.example", "/\n/evil.example", "javascript:alert(1)", "http:evil.example",
     "%2F%2Fevil.example", "///evil.example", " //evil.example"],
)  # fmt: skip
def test_next_never_leaves_the_site(client, li, target):
    from urllib.parse import quote

    response = login(client, query=f"?next={quote(target, safe='')}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location and "javascript" not in location
    assert location == "/"


def test_next_keeps_a_path_of_the_site(client, li):
    response = login(client, query="?next=/contracts%3Fstatus%3Ddraft")
    assert response.headers["Location"] == "/contracts?status=draft"


def test_a_page_asks_to_sign_in_and_comes_back(client, li):
    asked = client.get("/contracts?status=draft")
    assert asked.status_code == 302
    back = login(client, query="?" + asked.headers["Location"].split("?", 1)[1])
    assert back.headers["Location"] == "/contracts?status=draft"
